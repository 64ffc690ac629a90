"""auth_tokens/humanize.py: token times for people: compact countdowns and stamps with a zone."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from auth_tokens import humanize

NOW = datetime(2026, 12, 1, 14, 15, 42, tzinfo=UTC)
MINUTE, HOUR, DAY = 60, 3600, 86400


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0 s"),
        (59, "59 s"),
        (60, "1 min"),
        (125, "2 min"),  # minutes alone: the seconds no longer matter
        (HOUR, "1 h"),
        (2 * HOUR + 5 * MINUTE + 30, "2 h 5 min"),  # hours with minutes, without seconds
        (2 * HOUR + 30, "2 h"),  # no "0 min"
        (7 * DAY - MINUTE, "6 d 23 h"),  # a refresh token a minute into its week
        (-90, "1 min"),  # the sign is the caller's to word ("expired ... ago")
        (59.9, "59 s"),  # whole seconds, never rounded up past what is left
    ],
)
def test_a_duration_is_its_largest_unit_and_the_next_for_days_and_hours(seconds, shown):
    assert humanize.duration(seconds) == shown


def test_an_expiry_counts_down_then_says_how_long_ago_it_passed():
    assert humanize.expiry(NOW + timedelta(minutes=52), now=NOW) == "in 52 min"
    assert humanize.expiry(NOW - timedelta(hours=3), now=NOW) == "expired 3 h ago"
    assert humanize.expiry(None, now=NOW) == "none"


def test_ago_says_when_and_admits_a_clock_ahead_of_ours():
    assert humanize.ago(NOW - timedelta(hours=3), now=NOW) == "3 h ago"
    # Another machine's clock a little ahead: "in 2 s", not "-2 s ago".
    assert humanize.ago(NOW + timedelta(seconds=2), now=NOW) == "in 2 s"
    assert humanize.ago(None, now=NOW) == "never"


def test_the_countdowns_read_the_clock_when_not_given_a_now():
    assert humanize.expiry(timezone.now() + timedelta(hours=2, seconds=30)) == "in 2 h"
    assert humanize.ago(timezone.now() - timedelta(days=1, hours=1, seconds=30)) == "1 d 1 h ago"


def test_a_stamp_is_to_the_second_in_the_active_zone_with_its_name():
    with timezone.override(zoneinfo.ZoneInfo("Asia/Kolkata")):
        assert humanize.stamp(NOW) == "2026-12-01 19:45:42 IST"
    with timezone.override(UTC):
        assert humanize.stamp(NOW) == "2026-12-01 14:15:42 UTC"
    assert humanize.stamp(None) == "none"
