"""Times as the pages show them: in the person's zone, always with the zone beside them.

{% load smsapp_time %}
{{ message.created_at|local_time }}            2026-12-01 09:15 EST
{{ message.created_at|local_time:"seconds" }}  2026-12-01 09:15:42 EST
{% local_time_tag message.created_at %}        the same inside <time datetime="(ISO instant)"
                                               title="America/New_York">
{% current_zone %}                             America/New_York (EST)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

MINUTES = "%Y-%m-%d %H:%M"
SECONDS = "%Y-%m-%d %H:%M:%S"


def zone_abbreviation(local: datetime) -> str:
    """ "EST", "IST", "CET"; where the zone has no letters for itself (many of South America's
    and Asia's write "-03" or "+0545"), the offset as "UTC-03:00", which no one misreads."""
    name = local.tzname() or ""
    if name and name[0] not in "+-" and not name[0].isdigit():
        return name
    return _offset_label(local.utcoffset() or timedelta(0))


def _offset_label(offset: timedelta) -> str:
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_local(value: datetime, *, seconds: bool = False) -> str:
    """`value` in the current zone (the person's: smsapp.middleware), with its zone."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)  # the database's times are UTC
    try:
        local = timezone.localtime(value)
    except OverflowError:  # within hours of year 1 or 9999: shown in UTC rather than not at all
        local = value.astimezone(UTC)
    return f"{local:{SECONDS if seconds else MINUTES}} {zone_abbreviation(local)}"


@register.filter(expects_localtime=False)
def local_time(value: object, precision: str = "") -> object:
    """A datetime as "2026-12-01 09:15 EST" (with "seconds": "2026-12-01 09:15:42 EST");
    "" for None; anything else unchanged."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return value
    return format_local(value, seconds=precision == "seconds")


@register.simple_tag
def local_time_tag(value: datetime | None, precision: str = "") -> str:
    """local_time inside a <time> element: the instant for machines, the zone's full name on
    hover."""
    if not isinstance(value, datetime):
        return ""
    instant = value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        instant.isoformat(),
        timezone.get_current_timezone_name(),
        format_local(value, seconds=precision == "seconds"),
    )


@register.simple_tag
def current_zone() -> str:
    """The zone times are shown in now, by name and abbreviation: "America/New_York (EST)"."""
    name = timezone.get_current_timezone_name()
    short = zone_abbreviation(timezone.localtime())
    return name if short == name else f"{name} ({short})"
