"""smsapp/middleware.py: each request's zone is the person's setting, else the browser's cookie
(decoded), else UTC; never a file path, never an error, never carried into the next request."""

from __future__ import annotations

import zoneinfo
from datetime import UTC

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from smsapp import middleware
from smsapp.models import Message, UserPreferences
from tests.support.pages import in_two_days, page_text, schedule_at

Status = Message.Status
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")


# -- through the pages -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_cookie_app_js_writes_encoded_is_read_as_the_browsers_zone(sender_client, sms_settings):
    # app.js writes encodeURIComponent(zone): what Chromium sends back for America/New_York.
    sender_client.cookies["tz"] = "America%2FNew_York"
    local = in_two_days(NEW_YORK)

    response = schedule_at(sender_client, local)

    message = Message.objects.get()
    assert message.status == Status.SCHEDULED
    # The instant typed in New York, not the same wall-clock time in UTC (5 hours early).
    assert message.send_at == local.astimezone(UTC)
    assert f"1 text scheduled for {local:%Y-%m-%d %H:%M} E" in page_text(response)  # EST/EDT


@pytest.mark.django_db
def test_the_compose_page_names_the_browsers_zone_with_its_abbreviation(sender_client):
    sender_client.cookies["tz"] = "Asia%2FKolkata"

    text = page_text(sender_client.get(reverse("smsapp:compose")))

    assert "Times are in Asia/Kolkata (IST), your browser's time zone." in text


@pytest.mark.django_db
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
    response = schedule_at(sender_client, when)

    assert page.status_code == 200
    assert "Times are in UTC." in page_text(page)
    assert response.status_code == 200
    assert Message.objects.get().send_at == when


@pytest.mark.django_db
def test_the_persons_setting_wins_over_the_browsers_zone(sender_client, sender, sms_settings):
    UserPreferences.objects.create(user=sender, time_zone="Asia/Kolkata")
    sender_client.cookies["tz"] = "America%2FNew_York"
    local = in_two_days(KOLKATA)

    compose = page_text(sender_client.get(reverse("smsapp:compose")))
    response = schedule_at(sender_client, local)

    assert "Times are in Asia/Kolkata (IST), from your settings." in compose
    assert Message.objects.get().send_at == local.astimezone(UTC)
    assert f"1 text scheduled for {local:%Y-%m-%d %H:%M} IST." in page_text(response)


@pytest.mark.django_db
def test_a_saved_zone_this_machine_no_longer_knows_falls_back_to_the_browsers(
    sender_client, sender
):
    UserPreferences.objects.create(user=sender, time_zone="Atlantis/Capital")
    sender_client.cookies["tz"] = "Asia%2FKolkata"

    text = page_text(sender_client.get(reverse("smsapp:compose")))

    assert "Times are in Asia/Kolkata (IST), your browser's time zone." in text


# -- the functions, one request at a time (anonymous requests: no database) ---------------------


def _request(cookie: str = "", user=None):
    request = RequestFactory().get("/")
    request.COOKIES[middleware.COOKIE] = cookie
    request.user = user or AnonymousUser()
    return request


def test_zone_named_knows_the_iana_zones_and_nothing_else():
    assert middleware.zone_named("Asia/Kolkata") == KOLKATA
    not_zones = ["", "Mars/Olympus_Mons", "America", "../../etc/passwd", "/etc/localtime"]
    assert [middleware.zone_named(name) for name in not_zones] == [None] * len(not_zones)


@pytest.mark.parametrize(
    ("cookie", "zone"),
    [
        ("America%2FNew_York", "America/New_York"),  # as app.js writes it: encodeURIComponent
        ("Europe/Paris", "Europe/Paris"),  # as a person might type it
        ("", None),
        ("%C3%28", None),  # not UTF-8 once decoded
        ("Asia%2FKolkata%00", None),
    ],
)
def test_the_browsers_zone_is_the_decoded_cookie_when_it_names_a_zone(cookie, zone):
    assert middleware.browser_zone_name(_request(cookie)) == zone


def test_a_cookie_longer_than_any_zone_name_is_not_even_decoded(monkeypatch):
    decoded: list[str] = []
    monkeypatch.setattr(middleware, "unquote", lambda raw, **kwargs: decoded.append(raw))
    too_long = "Europe%2FParis" + "x" * middleware.MAX_COOKIE_CHARS

    assert middleware.browser_zone_name(_request(too_long)) is None
    assert decoded == []


def test_an_anonymous_request_gets_the_browsers_zone_else_utc():
    assert middleware.person_zone(_request("Asia%2FKolkata")) == middleware.PersonZone(
        "Asia/Kolkata", "browser"
    )
    assert middleware.person_zone(_request("Mars%2FBase")) == middleware.PersonZone(
        "UTC", "default"
    )


@pytest.mark.django_db
def test_the_signed_in_persons_setting_comes_before_the_browsers_zone(sender):
    UserPreferences.objects.create(user=sender, time_zone="Asia/Kolkata")
    request = _request("America%2FNew_York", user=sender)

    assert middleware.person_zone(request) == middleware.PersonZone("Asia/Kolkata", "setting")


def test_the_middleware_activates_the_zone_for_its_request_only():
    seen = {}

    def view(request):
        seen["active"] = timezone.get_current_timezone_name()
        seen["person_zone"] = request.person_zone
        return HttpResponse()

    middleware.BrowserTimezoneMiddleware(view)(_request("Asia%2FKolkata"))

    assert seen == {
        "active": "Asia/Kolkata",
        "person_zone": middleware.PersonZone("Asia/Kolkata", "browser"),
    }
    # The thread serves someone else next: back to the site's zone.
    assert timezone.get_current_timezone_name() == timezone.get_default_timezone_name()


def test_the_zone_is_dropped_even_when_the_view_fails():
    def failing_view(request):
        raise RuntimeError("the view failed")

    with pytest.raises(RuntimeError):
        middleware.BrowserTimezoneMiddleware(failing_view)(_request("Asia%2FKolkata"))

    assert timezone.get_current_timezone_name() == timezone.get_default_timezone_name()
