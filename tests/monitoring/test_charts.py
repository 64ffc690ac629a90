"""monitoring/charts.py: the SVG the dashboard shows, drawn from numbers (no database)."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, timedelta

from monitoring.charts import hourly_outcomes_chart, share_bar, token_timeline_chart
from monitoring.selectors import OUTCOMES, HourCounts, TokenMark

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
START = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # midnight in New York (EST)


def _hours(data: dict[int, dict[str, int]], count: int = 168) -> list[HourCounts]:
    return [
        HourCounts(START + timedelta(hours=n), dict.fromkeys(OUTCOMES, 0) | data.get(n, {}))
        for n in range(count)
    ]


def test_a_bar_for_each_hour_with_texts_and_none_for_empty_hours():
    svg = hourly_outcomes_chart(_hours({3: {"delivered": 4}, 50: {"failed": 1}}), NEW_YORK)

    assert re.findall(r'data-hour="([^"]+)"', svg) == [
        (START + timedelta(hours=3)).isoformat(),
        (START + timedelta(hours=50)).isoformat(),
    ]


def test_stacked_parts_add_up_to_the_hour_and_its_title_says_so_in_local_time():
    svg = hourly_outcomes_chart(_hours({10: {"delivered": 6, "failed": 2, "waiting": 2}}), NEW_YORK)

    heights = {
        outcome: float(height)
        for outcome, height in re.findall(r'class="bar-(\w+)"[^>]*height="([\d.]+)"', svg)
    }
    assert set(heights) == {"delivered", "failed", "waiting"}
    assert heights["delivered"] == 3 * heights["failed"]
    assert heights["delivered"] + heights["failed"] + heights["waiting"] == 180  # the whole plot
    assert "<title>Mon 23 Nov 10:00 EST: 6 delivered, 2 failed, 2 waiting</title>" in svg


def test_days_are_labelled_at_local_midnight():
    svg = hourly_outcomes_chart(_hours({}), NEW_YORK)

    labels = re.findall(r">((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d)<", svg)
    assert labels == ["Mon 23", "Tue 24", "Wed 25", "Thu 26", "Fri 27", "Sat 28", "Sun 29"]


def test_a_day_with_a_clock_change_still_labels_each_midnight_once():
    start = datetime(2026, 10, 31, 4, 0, tzinfo=UTC)  # Sat 00:00 EDT; Sunday has 25 hours
    hours = [HourCounts(start + timedelta(hours=n), dict.fromkeys(OUTCOMES, 0)) for n in range(72)]

    svg = hourly_outcomes_chart(hours, NEW_YORK)

    assert re.findall(r">((?:Sat|Sun|Mon) \d\d)<", svg) == ["Sat 31", "Sun 01", "Mon 02"]


def test_text_going_into_the_svg_is_escaped():
    mark = TokenMark(START, "blocked", "<script>", 1, 'OAU-140"><b>')

    svg = token_timeline_chart(
        [mark], start=START, hours=24, zone=NEW_YORK, kinds={"blocked": "<blocked>"}
    )

    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "&lt;blocked&gt;" in svg


def test_the_timeline_has_a_lane_per_kind_that_happened_and_a_dot_per_hour():
    marks = [
        TokenMark(START + timedelta(hours=1), "refreshed", "refreshed", 2, ""),
        TokenMark(START + timedelta(hours=5), "refreshed", "refreshed", 1, ""),
        TokenMark(START + timedelta(hours=6), "blocked", "automatic logins blocked", 1, "OAU-140"),
    ]

    svg = token_timeline_chart(
        marks,
        start=START,
        hours=24,
        zone=NEW_YORK,
        kinds={"refreshed": "refreshed", "logged_in": "logged in", "blocked": "blocked"},
    )

    assert svg.count('class="event event-refreshed"') == 2
    assert svg.count('class="event event-blocked"') == 1
    assert "logged in" not in svg  # no lane for what did not happen
    assert "Mon 23 Nov 06:00 EST: 1 x automatic logins blocked (OAU-140)" in svg


def test_an_empty_timeline_says_so():
    svg = token_timeline_chart([], start=START, hours=24, zone=NEW_YORK, kinds={})

    assert "No token events in these days" in svg


def test_a_share_bar_is_clamped_to_its_frame():
    assert 'width="100" height="8" fill="#b3261e"' in share_bar(1.7)
    assert 'width="25" height="8" fill="#b3261e"' in share_bar(0.25)
