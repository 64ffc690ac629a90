"""In Chromium, from a browser in Kolkata: create a weekday rule for New York, see its next five
times, pause it; at desktop and phone widths, under the CSP, with a double click on Save."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from recurring.models import RecurringSend
from tests.support import browser

pytestmark = pytest.mark.django_db(transaction=True)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "browser-test-password"
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def staff_sender(django_user_model, staff_senders, settings):
    settings.SMS_FROM_NUMBER = "+16505550100"
    user = django_user_model.objects.create_user("pat", password=PASSWORD)
    user.groups.add(staff_senders)
    return user


def _fits(page, width: int, what: str) -> None:
    page.wait_for_load_state("load")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{what} is {wide} px wide in a {width} px window"


def _coming(page) -> list[datetime]:
    """The instants of the "Next 5 times" list, from the <time datetime> of each."""
    values = page.locator("#coming li time").evaluate_all("els => els.map(e => e.dateTime)")
    return [datetime.fromisoformat(v) for v in values]


@pytest.mark.parametrize("width", [1280, 390])
def test_create_a_weekday_rule_see_its_next_five_times_and_pause_it(
    chromium, live_server, staff_sender, width
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The browser's zone, not UTC and not the rule's: the times are shown in it.
    context = chromium.new_context(
        viewport={"width": width, "height": 900}, timezone_id="Asia/Kolkata"
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    violations = browser.csp_violations(page)
    browser.sign_in_at(page, live_server.url, "pat", PASSWORD)

    page.get_by_role("link", name="Recurring").click()
    expect(page.get_by_role("heading", name="Recurring sends")).to_be_visible()
    _fits(page, width, "the empty list")
    page.get_by_role("link", name="New recurring send").click()
    _fits(page, width, "the new form")
    # The form starts in the viewer's zone (the browser's, from its tz cookie).
    # (Chromium names it by its old alias, Asia/Calcutta: the same zone.)
    browser_zone = page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert browser_zone in ("Asia/Kolkata", "Asia/Calcutta")
    assert page.get_by_label("Time zone").input_value() == browser_zone
    page.get_by_label("Name", exact=True).fill("On-call this week")
    page.get_by_label("To", exact=True).fill("+1 650 555 0101")
    page.get_by_label("Text", exact=True).fill("You are on call this week.")
    page.get_by_label("every weekday (Mon to Fri)").check()
    page.get_by_label("Time", exact=True).fill("09:00")
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_role("button", name="Preview the next times").click()
    expect(page.get_by_role("heading", name="Next 5 times")).to_be_visible()
    assert not RecurringSend.objects.exists()  # a preview saves nothing
    _fits(page, width, "the form with its preview")
    page.screenshot(path=str(SCREENSHOTS / f"recurring-form-{width}.png"), full_page=True)

    page.get_by_role("button", name="Save").dblclick()  # a double click: one recurring send
    expect(page.locator("#rule-text")).to_contain_text(
        "Every weekday (Mon to Fri) at 09:00 America/New_York, from "
    )
    coming = _coming(page)
    assert len(coming) == 5
    for instant in coming:
        local = instant.astimezone(NEW_YORK)
        assert (local.weekday() < 5, local.hour, local.minute) == (True, 9, 0)
    # Shown in the viewer's zone: India Standard Time.
    assert all(t.endswith(" IST") for t in page.locator("#coming li time").all_inner_texts())
    _fits(page, width, "the new recurring send")
    page.screenshot(path=str(SCREENSHOTS / f"recurring-created-{width}.png"), full_page=True)

    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#state")).to_have_text("Paused: nothing is sent until it is resumed.")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    assert page.locator("#coming").count() == 0
    _fits(page, width, "the paused recurring send")
    page.screenshot(path=str(SCREENSHOTS / f"recurring-paused-{width}.png"), full_page=True)

    page.get_by_role("link", name="All recurring sends").click()
    expect(page.locator(".recurring-list")).to_contain_text("paused")
    _fits(page, width, "the list")
    page.screenshot(path=str(SCREENSHOTS / f"recurring-list-{width}.png"), full_page=True)
    page.wait_for_timeout(200)  # violation events may follow the load event

    assert RecurringSend.objects.count() == 1
    assert RecurringSend.objects.get().paused
    assert violations == []
    context.close()
