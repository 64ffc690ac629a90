"""The dashboard in Chromium: it renders with data (texts over seven days, token events through
the services) for a viewer whose zone is not UTC, at desktop and phone widths, under the CSP."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from auth_tokens.errors import CredentialsRejected
from auth_tokens.services import clear_block, get_access_token, refresh_now
from smsapp import services
from smsapp.models import Message
from smsapp.services.preferences import user_time_zone_set
from tests.support import browser
from tests.support.texts import check_delivery_now, failed_at_sending, send

pytestmark = pytest.mark.django_db(transaction=True)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "browser-dashboard-password"
ZONE = "Asia/Kolkata"  # UTC+05:30: a local hour is not a UTC hour
WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}


def _seed_texts(simulator, settings, user) -> list[Message]:
    """Texts in each outcome, sent through the simulator, then spread over the last 7 days."""
    simulator.configure(
        failing_numbers={"+16505550151": "SMS-RC-413", "+16505550152": "SMS-RC-413"}
    )

    def create(number: str) -> Message:
        return services.message_create(to_numbers=[number], text="Your table", created_by=user)[0]

    texts = [send(create(f"+1650555016{n}")) for n in range(6)]
    texts += [send(create("+16505550151")), send(create("+16505550152"))]
    simulator.advance_clock(10)  # past the simulator's delivery delay
    texts = [check_delivery_now(text) for text in texts]
    texts.append(failed_at_sending(settings, "+16505550153"))
    texts += [create(f"+1650555017{n}") for n in range(3)]  # queued: no worker here
    assert [t.status for t in texts].count(Message.Status.DELIVERED) == 6
    assert [t.status for t in texts].count(Message.Status.FAILED) == 3
    now = timezone.now()
    for index, text in enumerate(texts):
        Message.objects.filter(pk=text.pk).update(created_at=now - timedelta(hours=index * 11 + 1))
    for index, text in enumerate(t for t in texts if t.status == Message.Status.DELIVERED):
        # Carriers take a while: 5, 12, 19, ... seconds from accepted to delivered.
        Message.objects.filter(pk=text.pk).update(
            delivered_at=text.sent_at + timedelta(seconds=index * 7 + 5)
        )
    return texts


def _seed_token_events(settings) -> None:
    get_access_token()
    refresh_now()
    right, settings.RINGCENTRAL_PASSWORD = settings.RINGCENTRAL_PASSWORD, "not-the-password"
    with pytest.raises(CredentialsRejected):
        refresh_now(login=True)
    settings.RINGCENTRAL_PASSWORD = right
    clear_block()


def _local_hours(texts: list[Message]) -> set[str]:
    zone = zoneinfo.ZoneInfo(ZONE)
    created = Message.objects.filter(pk__in=[t.pk for t in texts]).values_list(
        "created_at", flat=True
    )
    return {when.astimezone(zone).strftime("%Y-%m-%d %H") for when in created}


def test_the_dashboard_renders_with_data_at_both_widths(
    chromium, live_server, django_user_model, sms_settings, simulator
):
    user = django_user_model.objects.create_superuser("ops", password=PASSWORD)
    user_time_zone_set(user=user, time_zone=ZONE)
    texts = _seed_texts(simulator, sms_settings, user)
    _seed_token_events(sms_settings)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    for name, viewport in WIDTHS.items():
        # The browser says New York; the person's setting (Kolkata) wins.
        context = chromium.new_context(viewport=viewport, timezone_id="America/New_York")
        page = context.new_page()
        page.set_default_timeout(20_000)
        violations = browser.csp_violations(page)
        browser.sign_in_at(page, live_server.url, "ops", PASSWORD)

        page.get_by_role("link", name="Dashboard").click()
        expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()

        # A bar per local hour with texts, and only those.
        bars = page.locator("svg.chart-hours g.hour")
        expect(bars).to_have_count(len(_local_hours(texts)))
        titles = bars.locator("title").all_text_contents()
        assert all("IST" in title for title in titles)
        assert any("delivered" in title for title in titles)
        assert page.locator("svg.chart-hours rect.bar-failed").count() == 3
        expect(page.locator(".help").first).to_contain_text("Asia/Kolkata")
        # Delivered 6 of 8 with an outcome... plus the one refused at sending: 6 of 9.
        expect(page.locator("#delivery")).to_contain_text("66.7 %")
        expect(page.locator("#delivery")).to_contain_text("26 s")  # the median of 5 ... 40 s
        reasons = page.locator("table.reasons")
        expect(reasons).to_contain_text("SMS-RC-413")
        expect(reasons).to_contain_text("opted out")
        expect(reasons).to_contain_text("permanent")
        expect(page.locator("#queue")).to_contain_text("Queued")
        expect(page.locator("svg.chart-tokens circle.event-blocked")).to_have_count(1)
        expect(page.locator("svg.chart-tokens circle.event-refreshed")).to_have_count(1)
        expect(page.locator("table.token-events")).to_contain_text("OAU-140")
        expect(page.locator("body")).not_to_contain_text("not-the-password")

        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= viewport["width"], f"the dashboard is {wide} px wide"
        page.wait_for_timeout(200)  # violation events come after the load event too
        assert violations == []
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=True)
        context.close()
