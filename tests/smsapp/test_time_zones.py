"""Times in each person's zone: their setting, else the browser's cookie (decoded), else UTC;
every time shown with its zone; the zone never leaks into the next request."""

from __future__ import annotations

import html
import re
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from smsapp.models import Message, UserPreferences

pytestmark = pytest.mark.django_db
Status = Message.Status
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")


def page_text(response) -> str:
    """The page as words: tags dropped, entities decoded, spaces collapsed."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    return re.sub(r" ([.,])", r"\1", words)  # "IST </span>, your": no space before a comma


def field_errors(response, field: str) -> str:
    page = response.content.decode()
    marker = f'id="id_{field}_error"'
    if marker not in page:
        return ""
    start = page.index(marker)
    return html.unescape(page[start : page.index("</div>", start)])


def schedule(client, local: datetime):
    """Post the compose form with `local` typed into "Send at" (minute precision)."""
    return client.post(
        reverse("smsapp:compose"),
        {"to": "+16505550101", "text": "Hi", "send_at": f"{local:%Y-%m-%dT%H:%M}"},
        follow=True,
    )


def in_two_days(zone: zoneinfo.ZoneInfo) -> datetime:
    """A wall-clock time in `zone`, two days ahead, to the minute."""
    return (timezone.now() + timedelta(days=2)).astimezone(zone).replace(second=0, microsecond=0)


# -- The browser's cookie --------------------------------------------------------------------


def test_the_cookie_app_js_writes_encoded_is_read_as_the_browsers_zone(sender_client, sms_settings):
    # app.js writes encodeURIComponent(zone): what Chromium sends back for America/New_York.
    sender_client.cookies["tz"] = "America%2FNew_York"
    local = in_two_days(NEW_YORK)

    response = schedule(sender_client, local)

    message = Message.objects.get()
    assert message.status == Status.SCHEDULED
    # The instant typed in New York, not the same wall-clock time in UTC (5 hours early).
    assert message.send_at == local.astimezone(UTC)
    assert f"1 text scheduled for {local:%Y-%m-%d %H:%M} E" in page_text(response)  # EST/EDT


def test_the_compose_page_names_the_browsers_zone_with_its_abbreviation(sender_client):
    sender_client.cookies["tz"] = "Asia%2FKolkata"

    text = page_text(sender_client.get(reverse("smsapp:compose")))

    assert "Times are in Asia/Kolkata (IST), your browser's time zone." in text


@pytest.mark.parametrize(
    "cookie",
    [
        "%",
        "%ZZ",
        "%C3%28",  # not UTF-8 once decoded
        "America",  # a folder of zones, not a zone
        "America%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Flocaltime",
        "America%2FNew_York%00",
        "x" * 4000,
        "Mars%2FOlympus_Mons",
    ],
)
def test_a_garbage_cookie_falls_back_to_utc_and_never_fails(sender_client, sms_settings, cookie):
    sender_client.cookies["tz"] = cookie

    page = sender_client.get(reverse("smsapp:compose"))
    when = in_two_days(zoneinfo.ZoneInfo("UTC"))
    response = schedule(sender_client, when)

    assert page.status_code == 200
    assert "Times are in UTC." in page_text(page)
    assert response.status_code == 200
    assert Message.objects.get().send_at == when


# -- Their own setting wins over the browser's ----------------------------------------------


def test_the_persons_setting_wins_over_the_browsers_zone(sender_client, sender, sms_settings):
    UserPreferences.objects.create(user=sender, time_zone="Asia/Kolkata")
    sender_client.cookies["tz"] = "America%2FNew_York"
    local = in_two_days(KOLKATA)

    compose = page_text(sender_client.get(reverse("smsapp:compose")))
    response = schedule(sender_client, local)

    assert "Times are in Asia/Kolkata (IST), from your settings." in compose
    assert Message.objects.get().send_at == local.astimezone(UTC)
    assert f"1 text scheduled for {local:%Y-%m-%d %H:%M} IST." in page_text(response)


def test_the_send_at_error_states_the_rule_in_the_persons_zone(sender_client, sender):
    UserPreferences.objects.create(user=sender, time_zone="Asia/Kolkata")
    sender_client.cookies["tz"] = "America%2FNew_York"

    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": "+16505550101", "text": "Hi", "send_at": "2020-01-01T09:00"},
    )

    error = field_errors(response, "send_at")
    assert "2020-01-01 09:00 Asia/Kolkata is in the past (it is now " in error
    assert "pick a time from now up to 365 days ahead (until " in error
    assert "America/New_York" not in error
    assert Message.objects.count() == 0


def test_a_time_that_does_not_exist_in_the_zone_is_a_field_error(sender_client, sender):
    # 2:30 on the day clocks in New York jump from 2:00 to 3:00.
    UserPreferences.objects.create(user=sender, time_zone="America/New_York")
    spring = datetime.now(NEW_YORK).year + 1
    day = next(
        datetime(spring, 3, d, 12, tzinfo=NEW_YORK)
        for d in range(8, 15)
        if datetime(spring, 3, d).weekday() == 6
    )

    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": "+16505550101", "text": "Hi", "send_at": f"{day:%Y-%m-%d}T02:30"},
    )

    assert response.status_code == 200
    assert "America/New_York" in field_errors(response, "send_at")
    assert Message.objects.count() == 0


def test_the_confirmation_states_the_send_time_with_its_zone(sender_client, sms_settings):
    sender_client.cookies["tz"] = "Asia%2FKolkata"
    local = in_two_days(KOLKATA)
    many = ", ".join(f"+1650555{i:04d}" for i in range(11))  # above the confirmation threshold

    response = sender_client.post(
        reverse("smsapp:compose"),
        {"to": many, "text": "Hi", "send_at": f"{local:%Y-%m-%dT%H:%M}"},
    )

    assert f"They will go out at {local:%Y-%m-%d %H:%M} IST (Asia/Kolkata)." in page_text(response)


# -- "Your settings" -------------------------------------------------------------------------


def test_your_settings_is_in_the_nav_and_offers_the_zones_with_the_browsers_first(
    sender_client,
):
    sender_client.cookies["tz"] = "America%2FNew_York"

    response = sender_client.get(reverse("smsapp:settings"))
    page = response.content.decode()

    assert f'href="{reverse("smsapp:settings")}" aria-current="page">Your settings' in page
    assert re.search(r'<option value="" selected>Use my browser\S+s time zone</option>', page)
    assert '<optgroup label="Asia">' in page
    assert '<option value="Asia/Kolkata">Kolkata</option>' in page
    assert "US/Eastern" not in page  # aliases would list most places twice
    assert "Your browser's time zone: America/New_York." in page_text(response)


def test_saving_a_zone_shows_times_in_it_and_empty_goes_back_to_the_browsers(sender_client, sender):
    sender_client.cookies["tz"] = "America%2FNew_York"

    saved = sender_client.post(
        reverse("smsapp:settings"), {"time_zone": "Asia/Kolkata"}, follow=True
    )

    assert "Saved: times are shown in Asia/Kolkata." in page_text(saved)
    assert "Times are shown in Asia/Kolkata (IST), the zone you picked below." in page_text(saved)
    assert UserPreferences.objects.get(user=sender).time_zone == "Asia/Kolkata"

    reset = sender_client.post(reverse("smsapp:settings"), {"time_zone": ""}, follow=True)

    assert "Saved: times are shown in your browser's time zone." in page_text(reset)
    assert "America/New_York (E" in page_text(reset)
    assert UserPreferences.objects.get(user=sender).time_zone == ""


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "US/Eastern"])
def test_a_zone_not_offered_is_a_field_error_and_nothing_is_saved(sender_client, sender, zone):
    response = sender_client.post(reverse("smsapp:settings"), {"time_zone": zone})

    assert response.status_code == 200
    assert "Select a valid choice" in field_errors(response, "time_zone")
    assert not UserPreferences.objects.filter(user=sender).exists()


def test_your_settings_is_for_staff_senders_only(client, django_user_model):
    assert client.get(reverse("smsapp:settings")).status_code == 302  # to sign in
    client.force_login(django_user_model.objects.create_user("visitor", password="pw-12345678"))
    assert client.get(reverse("smsapp:settings")).status_code == 403
    assert client.post(reverse("smsapp:settings"), {"time_zone": "UTC"}).status_code == 403
    assert not UserPreferences.objects.exists()


def test_a_saved_zone_this_machine_no_longer_knows_falls_back_to_the_browsers(
    sender_client, sender
):
    UserPreferences.objects.create(user=sender, time_zone="Atlantis/Capital")
    sender_client.cookies["tz"] = "Asia%2FKolkata"

    text = page_text(sender_client.get(reverse("smsapp:compose")))

    assert "Times are in Asia/Kolkata (IST), your browser's time zone." in text


# -- The template filter for every page that shows a time ----------------------------------

WHEN = datetime(2026, 12, 1, 14, 15, 42, tzinfo=UTC)


def render(source: str, zone: str | None, **context) -> str:
    template = Template("{% load smsapp_time %}" + source)
    if zone is None:
        return template.render(Context(context))
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        return template.render(Context(context))


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("America/New_York", "2026-12-01 09:15 EST"),
        ("Asia/Kolkata", "2026-12-01 19:45 IST"),
        ("Europe/Paris", "2026-12-01 15:15 CET"),
        (None, "2026-12-01 14:15 UTC"),
        # Zones whose data has no letters for them: the offset, not "-03" or "+0545".
        ("America/Sao_Paulo", "2026-12-01 11:15 UTC-03:00"),
        ("Asia/Kathmandu", "2026-12-01 20:00 UTC+05:45"),
    ],
)
def test_local_time_shows_the_time_in_the_persons_zone_with_the_zone(zone, shown):
    assert render("{{ when|local_time }}", zone, when=WHEN) == shown


def test_local_time_with_seconds_and_as_a_time_element():
    assert render('{{ when|local_time:"seconds" }}', "Asia/Kolkata", when=WHEN) == (
        "2026-12-01 19:45:42 IST"
    )
    assert render("{% local_time_tag when %}", "America/New_York", when=WHEN) == (
        '<time datetime="2026-12-01T14:15:42+00:00" title="America/New_York">'
        "2026-12-01 09:15 EST</time>"
    )


def test_local_time_of_nothing_is_empty_and_of_the_calendars_end_is_still_shown():
    assert render("[{{ when|local_time }}]", "America/New_York", when=None) == "[]"
    end = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert render("{{ when|local_time }}", "Etc/GMT-14", when=end) == "9999-12-31 23:59 UTC"
