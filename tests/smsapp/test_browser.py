"""A real browser (Debian's Chromium, driven by Playwright) against a live server and worker."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from smsapp.models import Message
from tests.smsapp.pipeline import process_env, start_worker

pytestmark = pytest.mark.django_db(transaction=True)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
SENT_OR_LATER = re.compile("sent|delivered")
# Playwright's own browser download is not available here; Debian's package is. The flags keep
# it from reaching for the network (refused here) and let it run as root in CI.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API keeps an asyncio loop in this thread, which makes Django refuse ORM
    # calls from it; the test's own queries never run inside that loop, so allow them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Chromium is missing: apt-get install chromium (./scripts/test does this)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 850})
        page.set_default_timeout(20_000)
        yield page
        browser.close()
        # ORM calls made while Playwright's loop is active get connections of their own, which
        # pytest-django's teardown does not see: close them, or the test database stays in use.
        connections.close_all()


@pytest.fixture
def staff_sender(django_user_model, staff_senders):
    user = django_user_model.objects.create_user("pat", password="browser-test-password")
    user.groups.add(staff_senders)
    return user


def test_staff_member_sends_to_two_numbers_and_sees_them_sent(
    browser_page, live_server, staff_sender, sms_settings, simulator, tmp_path
):
    page = browser_page
    worker = start_worker(process_env(sms_settings), tmp_path)
    try:
        page.goto(f"{live_server.url}/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Username").fill("pat")
        page.get_by_label("Password").fill("browser-test-password")
        page.get_by_role("button", name="Sign in").click()

        expect(page.get_by_role("heading", name="Send a text")).to_be_visible()
        page.get_by_label("To").fill("+1 650 555 0101, (650) 555-0102")
        page.get_by_label("Message").fill("Your order is ready “today”")
        expect(page.locator("#counter")).to_contain_text("27 / 1000 characters")
        expect(page.locator("#counter")).to_contain_text("UCS-2")
        expect(page.locator("#counter")).to_contain_text("1 segment")
        expect(page.locator("#counter")).to_contain_text("U+201C")
        expect(page.locator("#recipients")).to_contain_text("+16505550101")
        expect(page.locator("#recipients")).to_contain_text("+16505550102")
        page.screenshot(path=str(SCREENSHOTS / "compose.png"), full_page=True)
        page.get_by_role("button", name="Send").click()

        expect(page.get_by_role("heading", name="Texts")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("2 texts queued for sending.")
        # The page polls for statuses: both reach "sent" (or further) without a reload.
        for number in ("+16505550101", "+16505550102"):
            row = page.locator("tr", has_text=number)
            expect(row.locator(".status")).to_have_text(SENT_OR_LATER, timeout=30_000)
        page.screenshot(path=str(SCREENSHOTS / "history.png"), full_page=True)
    finally:
        worker.stop()
    assert simulator.counters()["sms_accepted"] == 2


def test_an_invalid_number_shows_its_error_and_sends_nothing(
    browser_page, live_server, staff_sender, sms_settings
):
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("pat")
    page.get_by_label("Password").fill("browser-test-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("To").fill("+16505550101, 555-12")
    page.get_by_label("Message").fill("Hello")
    expect(page.locator("#recipients")).to_contain_text("not valid: 555-12")
    page.get_by_role("button", name="Send").click()
    error = page.locator("#id_to_error")
    expect(error).to_contain_text("Not a valid phone number: “555-12”")
    expect(page.get_by_label("To")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(SCREENSHOTS / "compose-error.png"), full_page=True)
    assert Message.objects.count() == 0
