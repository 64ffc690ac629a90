"""smsapp/templatetags/smsapp_time.py: every time a page shows, in the person's zone, with the
zone."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

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
