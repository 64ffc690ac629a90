"""Show and read times in each person's zone: their own setting, else their browser's, else UTC."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from smsapp.models import UserPreferences

# Set by static/smsapp/app.js from Intl.DateTimeFormat().resolvedOptions().timeZone, written
# with encodeURIComponent ("America%2FNew_York"): read back decoded.
COOKIE = "tz"
# The longest IANA name is 32 characters ("America/Argentina/ComodRivadavia"); a longer cookie
# is garbage and is not even decoded.
MAX_COOKIE_CHARS = 200


@dataclass(frozen=True)
class PersonZone:
    """The zone a request's times are shown and read in, and where it came from."""

    name: str  # an IANA name, "UTC" when nothing else is known
    source: str  # "setting" (their own), "browser" (the tz cookie) or "default"


DEFAULT_ZONE = PersonZone("UTC", "default")


@functools.cache
def known_zones() -> frozenset[str]:
    """Every IANA name this machine has data for. Read once: available_timezones() walks the
    zone files on every call. Names from a cookie or a form are looked up here before
    ZoneInfo() sees them, so a crafted name ("../../etc/passwd") never reaches the filesystem."""
    return frozenset(zoneinfo.available_timezones())


def zone_named(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone called `name`, or None for anything that is not a zone (never raises)."""
    if not name or name not in known_zones():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # a damaged zone file
        return None


def browser_zone_name(request: HttpRequest) -> str | None:
    """The zone the browser reported in the tz cookie, or None if it sent none or garbage."""
    raw = request.COOKIES.get(COOKIE, "")
    if not raw or len(raw) > MAX_COOKIE_CHARS:
        return None
    name = unquote(raw, errors="replace")  # "%ZZ" and broken UTF-8 become U+FFFD: no zone
    return name if zone_named(name) else None


def setting_zone_name(request: HttpRequest) -> str | None:
    """The zone the signed-in person chose on "Your settings", or None ("use my browser's")."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    name = (
        UserPreferences.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
    )
    # A name saved before this machine's zone data dropped it falls back to the browser's.
    return name if name and zone_named(name) else None


def person_zone(request: HttpRequest) -> PersonZone:
    if name := setting_zone_name(request):
        return PersonZone(name, "setting")
    if name := browser_zone_name(request):
        return PersonZone(name, "browser")
    return DEFAULT_ZONE


class BrowserTimezoneMiddleware:
    """Activates the person's zone for the request (after AuthenticationMiddleware: their
    setting needs request.user). Django then reads the form's times in it and shows times in
    it; `request.person_zone` says which zone it is and why, for the pages that say so."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = person_zone(request)
        request.person_zone = zone  # type: ignore[attr-defined]
        if zone is DEFAULT_ZONE:
            timezone.deactivate()
        else:
            timezone.activate(zoneinfo.ZoneInfo(zone.name))
        try:
            return self.get_response(request)
        finally:
            # The thread serves other requests next: none may inherit this person's zone.
            timezone.deactivate()
