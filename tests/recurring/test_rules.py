"""When a recurring send fires: local times kept across daylight saving, in UTC instants, and the
documented rules for a time that does not exist or happens twice (docs/recurring.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from recurring import rules
from recurring.rules import RuleError, RuleSpec


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def spec(kind: str = rules.DAILY, at: time = time(9), zone: str = "UTC", **kwargs) -> RuleSpec:
    kwargs.setdefault("starts_on", date(2026, 1, 1))
    return RuleSpec(kind=kind, time_of_day=at, time_zone=zone, **kwargs)


def instants(rule: RuleSpec, after: datetime, before: datetime) -> list[datetime]:
    return [o.at for o in rules.occurrences_between(rule, after, before)]


# -- local time kept across daylight saving ------------------------------------------------------


def test_new_york_9am_is_14_utc_in_winter_and_13_utc_in_summer_across_the_march_change():
    # 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
    weekly = spec(rules.DAILY, time(9), "America/New_York")
    assert instants(weekly, utc(2026, 3, 6), utc(2026, 3, 10)) == [
        utc(2026, 3, 6, 14),
        utc(2026, 3, 7, 14),
        utc(2026, 3, 8, 13),
        utc(2026, 3, 9, 13),
    ]


def test_new_york_9am_goes_back_to_14_utc_after_the_november_change():
    # 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST.
    weekdays = spec(rules.WEEKDAYS, time(9), "America/New_York")
    assert instants(weekdays, utc(2026, 10, 29), utc(2026, 11, 4)) == [
        utc(2026, 10, 29, 13),  # Thu, EDT
        utc(2026, 10, 30, 13),  # Fri, EDT
        utc(2026, 11, 2, 14),  # Mon, EST (no weekend)
        utc(2026, 11, 3, 14),
    ]


def test_london_9am_is_9_utc_in_winter_and_8_utc_in_summer():
    # 2026-03-29 BST starts; 2026-10-25 it ends.
    daily = spec(rules.DAILY, time(9), "Europe/London")
    assert instants(daily, utc(2026, 3, 28), utc(2026, 3, 30, 12)) == [
        utc(2026, 3, 28, 9),
        utc(2026, 3, 29, 8),
        utc(2026, 3, 30, 8),
    ]
    assert instants(daily, utc(2026, 10, 24), utc(2026, 10, 26, 12)) == [
        utc(2026, 10, 24, 8),
        utc(2026, 10, 25, 9),
        utc(2026, 10, 26, 9),
    ]


def test_kolkata_without_daylight_saving_is_always_5_30_ahead_of_utc():
    daily = spec(rules.DAILY, time(9), "Asia/Kolkata")
    # The same days as the American and European changes: nothing moves.
    march = instants(daily, utc(2026, 3, 7), utc(2026, 3, 30, 12))
    assert all((t.hour, t.minute) == (3, 30) for t in march)
    assert len(march) == 24  # the 7th to the 30th
    assert instants(daily, utc(2026, 11, 1), utc(2026, 11, 1, 23)) == [utc(2026, 11, 1, 3, 30)]


def test_a_weekly_rule_on_chosen_days_keeps_its_local_time_across_the_change():
    rule = spec(rules.WEEKLY, time(17), "Europe/London", weekdays=(4,))  # Fridays 17:00
    assert instants(rule, utc(2026, 3, 20), utc(2026, 4, 4)) == [
        utc(2026, 3, 20, 17),  # GMT
        utc(2026, 3, 27, 17),  # GMT (BST starts on the 29th)
        utc(2026, 4, 3, 16),  # BST
    ]


# -- a time that does not exist, and one that happens twice ------------------------------------


def test_a_time_in_the_spring_forward_gap_fires_after_the_gap_by_its_length():
    # 02:30 does not exist in New York on 2026-03-08: read with the offset before the gap
    # (EST, -5), it is 07:30 UTC, which is 03:30 EDT. RFC 5545's own example.
    rule = spec(rules.DAILY, time(2, 30), "America/New_York")
    found = rules.occurrences_between(rule, utc(2026, 3, 7), utc(2026, 3, 10))
    assert [o.at for o in found] == [
        utc(2026, 3, 7, 7, 30),
        utc(2026, 3, 8, 7, 30),
        utc(2026, 3, 9, 6, 30),
    ]
    gap_day = found[1]
    assert (gap_day.local.hour, gap_day.local.minute) == (3, 30)
    assert (gap_day.shifted, gap_day.repeated) == (True, False)
    assert [o.shifted for o in found] == [False, True, False]


def test_london_half_past_one_on_the_spring_forward_day_fires_at_half_past_two_bst():
    rule = spec(rules.DAILY, time(1, 30), "Europe/London")
    (gap_day,) = rules.occurrences_between(rule, utc(2026, 3, 29), utc(2026, 3, 29, 12))
    assert gap_day.at == utc(2026, 3, 29, 1, 30)
    assert f"{gap_day.local:%H:%M %Z}" == "02:30 BST"


def test_a_time_that_happens_twice_in_autumn_fires_once_at_the_first():
    # 01:30 happens twice in New York on 2026-11-01: EDT (05:30 UTC), then EST (06:30 UTC).
    rule = spec(rules.DAILY, time(1, 30), "America/New_York")
    found = rules.occurrences_between(rule, utc(2026, 10, 31), utc(2026, 11, 3))
    assert [o.at for o in found] == [
        utc(2026, 10, 31, 5, 30),
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 2, 6, 30),
    ]
    assert (found[1].repeated, found[1].shifted) == (True, False)
    assert f"{found[1].local:%H:%M %Z}" == "01:30 EDT"
    assert [o.repeated for o in found] == [False, True, False]


def test_london_half_past_one_on_the_fall_back_day_fires_once_in_bst():
    rule = spec(rules.DAILY, time(1, 30), "Europe/London")
    assert instants(rule, utc(2026, 10, 25), utc(2026, 10, 25, 23)) == [utc(2026, 10, 25, 0, 30)]


# -- the other kinds of rule -------------------------------------------------------------------


def test_monthly_on_the_31st_fires_on_the_last_day_of_shorter_months():
    rule = spec(rules.MONTHLY, time(9), "Asia/Kolkata", month_day=31)
    found = rules.next_occurrences(rule, utc(2026, 1, 1), 4)
    assert [o.local.date() for o in found] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_monthly_on_the_30th_fires_once_in_a_31_day_month():
    rule = spec(rules.MONTHLY, time(9), month_day=30)
    found = rules.next_occurrences(rule, utc(2026, 1, 1), 3)
    assert [o.at.date() for o in found] == [date(2026, 1, 30), date(2026, 2, 28), date(2026, 3, 30)]


def test_an_rrule_fires_on_its_days_at_the_time_of_day_field():
    # The first Monday of each month.
    rule = spec(
        rules.RRULE, time(8, 15), "Europe/London", rrule="RRULE:freq=monthly;byday=MO;bysetpos=1"
    )
    found = rules.next_occurrences(rule, utc(2026, 3, 1), 3)
    assert [o.at for o in found] == [
        utc(2026, 3, 2, 8, 15),
        utc(2026, 4, 6, 7, 15),
        utc(2026, 5, 4, 7, 15),
    ]


def test_nothing_before_the_start_date_and_nothing_after_the_end_date():
    rule = spec(rules.DAILY, time(9), starts_on=date(2026, 5, 10), ends_on=date(2026, 5, 12))
    assert instants(rule, utc(2026, 5, 1), utc(2026, 6, 1)) == [
        utc(2026, 5, 10, 9),
        utc(2026, 5, 11, 9),
        utc(2026, 5, 12, 9),
    ]
    assert rules.next_occurrence(rule, utc(2026, 5, 12, 9, 0, 1)) is None


def test_the_end_date_is_a_local_day_not_a_utc_one():
    # 23:30 in New York on the end date is already the next day in UTC: it still fires.
    rule = spec(
        rules.DAILY,
        time(23, 30),
        "America/New_York",
        starts_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 1),
    )
    assert instants(rule, utc(2026, 6, 1), utc(2026, 6, 3)) == [utc(2026, 6, 2, 3, 30)]


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rrule", "words"),
    [
        ("", "Write the rule"),
        ("FREQ=HOURLY", "DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("FREQ=DAILY;BYHOUR=9", "Time field"),
        ("FREQ=DAILY;COUNT=3", "End date"),
        ("FREQ=DAILY;UNTIL=20270101T000000Z", "End date"),
        ("FREQ=WEEKLY;BYDAY=XX", "can be read"),
        ("FREQ=WEEKLY;BYDAY", "NAME=VALUE"),
        ("FREQ=DAILY\nEXDATE:20260101", "One RRULE line"),
    ],
)
def test_an_unusable_rrule_is_refused_saying_why(rrule, words):
    with pytest.raises(RuleError, match=words):
        rules.validate_rrule(rrule)


def test_a_rule_that_never_fires_again_is_refused():
    ended = spec(rules.DAILY, starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 5))
    with pytest.raises(RuleError, match="never fires from now on before its end date"):
        rules.validate_spec(ended, now=utc(2026, 2, 1))
    impossible = spec(rules.RRULE, rrule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30")
    with pytest.raises(RuleError, match="never fires"):
        rules.validate_spec(impossible, now=utc(2026, 2, 1))


def test_a_weekly_rule_needs_a_day_and_a_monthly_one_a_day_of_the_month():
    with pytest.raises(RuleError, match="day of the week"):
        rules.validate_spec(spec(rules.WEEKLY), now=utc(2026, 2, 1))
    with pytest.raises(RuleError, match="from 1 to 31"):
        rules.validate_spec(spec(rules.MONTHLY, month_day=32), now=utc(2026, 2, 1))


def test_a_rule_in_words_names_the_days_time_and_zone():
    rule = spec(
        rules.WEEKLY, time(9, 5), "America/New_York", weekdays=(3, 0), ends_on=date(2026, 12, 31)
    )
    assert rules.describe(rule) == (
        "Every week on Mon, Thu at 09:05 America/New_York, from 2026-01-01 to 2026-12-31"
    )
