"""When a recurring send fires: its rule in local wall time, and each time as a UTC instant.

Pure: no database. The rules of daylight saving are in docs/recurring.md; in short, a local time
is turned into an instant as RFC 5545 (iCalendar, section 3.3.5) does, which is what zoneinfo
does with fold=0: a time that does not exist that day (02:30 when clocks go from 02:00 to 03:00)
is read with the offset before the gap, so it fires at 03:30; a time that happens twice (01:30
when clocks go back) fires once, at the first of the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil import rrule as du

# The kinds of rule staff pick from; "rrule" takes an RFC 5545 RRULE as written.
DAILY, WEEKDAYS, WEEKLY, MONTHLY, RRULE = "daily", "weekdays", "weekly", "monthly", "rrule"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# How far ahead a rule is searched for its next time. A rule that fires less often than this
# (an RRULE of every sixth year) is refused when it is saved: without a bound, a rule that
# never matches (the 30th of February) would keep dateutil busy until the year 9999.
SEARCH_YEARS = 5
# RRULE parts the other fields already say: the time of day, the start and the end. Two places
# for one fact would disagree after the first edit.
_REFUSED_PARTS = {
    "DTSTART": "the Start date field says when it starts",
    "UNTIL": "give an End date instead",
    "COUNT": "give an End date instead",
    "BYHOUR": "the Time field says the time of day",
    "BYMINUTE": "the Time field says the time of day",
    "BYSECOND": "the Time field says the time of day",
}
_ALLOWED_FREQ = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_PREFIX = re.compile(r"^\s*RRULE:", re.IGNORECASE)


class RuleError(ValueError):
    """The rule cannot be used; the message says why, in staff words."""


@dataclass(frozen=True)
class RuleSpec:
    """Everything that decides when a recurring send fires."""

    kind: str
    time_of_day: time
    time_zone: str
    starts_on: date
    ends_on: date | None = None
    weekdays: tuple[int, ...] = field(default=())  # 0 = Monday, for WEEKLY
    month_day: int | None = None  # 1..31, for MONTHLY
    rrule: str = ""  # for RRULE: "FREQ=WEEKLY;BYDAY=MO,TH"


@dataclass(frozen=True)
class Occurrence:
    """One time a rule fires: the instant, and the local time it was asked for that day."""

    at: datetime  # UTC
    wanted: datetime  # naive local wall time from the rule
    zone: ZoneInfo

    @property
    def local(self) -> datetime:
        return self.at.astimezone(self.zone)

    @property
    def shifted(self) -> bool:
        """The asked-for time does not exist that day: it fires after the gap, later."""
        return self.local.replace(tzinfo=None) != self.wanted

    @property
    def repeated(self) -> bool:
        """The asked-for time happens twice that day: it fires at the first."""
        other = self.wanted.replace(tzinfo=self.zone, fold=1)
        return not self.shifted and other.utcoffset() != self.local.utcoffset()


def clean_rrule(text: str) -> str:
    """The RRULE as stored: without an "RRULE:" prefix or spaces, parts in upper case."""
    return _PREFIX.sub("", text).strip().replace(" ", "").upper()


def validate_rrule(text: str) -> None:
    """An RRULE the other fields do not contradict, at most daily, that dateutil reads."""
    rule = clean_rrule(text)
    if not rule:
        raise RuleError("Write the rule, e.g. FREQ=WEEKLY;BYDAY=MO,TH.")
    if "\n" in rule or "\r" in rule:
        raise RuleError("One RRULE line only (no DTSTART, EXDATE or RDATE lines).")
    parts = {}
    for part in filter(None, rule.split(";")):
        name, sep, value = part.partition("=")
        if not sep or not value:
            raise RuleError(f"“{part}” is not NAME=VALUE.")
        parts[name] = value
    for name, why in _REFUSED_PARTS.items():
        if name in parts:
            raise RuleError(f"Leave {name} out of the rule: {why}.")
    freq = parts.get("FREQ")
    if freq not in _ALLOWED_FREQ:
        raise RuleError(
            "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY: a recurring send fires at most once "
            "a day, at its Time."
        )
    try:
        du.rrulestr(rule, dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError, KeyError) as error:
        raise RuleError(f"Not an RRULE that can be read: {error}.") from None


def _base_rule(spec: RuleSpec) -> du.rrule:
    """The rule in naive local wall time, from the start date at the time of day."""
    start = datetime.combine(spec.starts_on, spec.time_of_day)
    if spec.kind == DAILY:
        return du.rrule(du.DAILY, dtstart=start)
    if spec.kind == WEEKDAYS:
        return du.rrule(du.WEEKLY, byweekday=(du.MO, du.TU, du.WE, du.TH, du.FR), dtstart=start)
    if spec.kind == WEEKLY:
        if not spec.weekdays:
            raise RuleError("Pick at least one day of the week.")
        return du.rrule(du.WEEKLY, byweekday=sorted(set(spec.weekdays)), dtstart=start)
    if spec.kind == MONTHLY:
        day = spec.month_day
        if day is None or not 1 <= day <= 31:
            raise RuleError("Give a day of the month from 1 to 31.")
        if day <= 28:
            return du.rrule(du.MONTHLY, bymonthday=day, dtstart=start)
        # "Monthly on the 31st" means the end of the month to people, not "skip the months
        # without one": the day, or the month's last day when it is shorter (the first of the
        # two in the month's set, BYSETPOS=1).
        return du.rrule(du.MONTHLY, bymonthday=(day, -1), bysetpos=1, dtstart=start)
    if spec.kind == RRULE:
        validate_rrule(spec.rrule)
        parsed = du.rrulestr(clean_rrule(spec.rrule), dtstart=start)
        assert isinstance(parsed, du.rrule)  # one line: never a set (validate_rrule)
        return parsed
    raise RuleError(f"Unknown kind of rule: {spec.kind!r}.")


def zone_of(spec: RuleSpec) -> ZoneInfo:
    return ZoneInfo(spec.time_zone)


def to_instant(wanted: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time: fold=0, RFC 5545's rule (module docstring)."""
    return wanted.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _local_end(spec: RuleSpec) -> datetime | None:
    # The end date is the last day it may fire, whole.
    return datetime.combine(spec.ends_on, time.max) if spec.ends_on else None


def _iterate(spec: RuleSpec, after: datetime, before: datetime) -> Iterator[Occurrence]:
    """Occurrences at or after `after` and at or before `before` (aware), in order, each
    instant once."""
    zone = zone_of(spec)
    # A day either side in local time: a shifted time moves by the gap (an hour, at most a day
    # where a zone once skipped one), so the window is filtered again by instant below.
    low = after.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    high = before.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    if (end := _local_end(spec)) is not None:
        high = min(high, end)
    if high < low:
        return
    # UNTIL bounds dateutil's own loop: it stops there even if nothing matches on the way.
    rule = _base_rule(spec).replace(until=high)
    last: datetime | None = None
    for wanted in rule.xafter(low, inc=True):
        instant = to_instant(wanted, zone)
        if instant > before:
            return
        # Two local days mapping to one instant happen only where a zone skipped a whole day.
        if instant < after or (last is not None and instant <= last):
            continue
        last = instant
        yield Occurrence(at=instant, wanted=wanted, zone=zone)


def occurrences_between(spec: RuleSpec, after: datetime, before: datetime) -> list[Occurrence]:
    """Every occurrence from `after` to `before`, both included."""
    return list(_iterate(spec, after, before))


def next_occurrences(spec: RuleSpec, after: datetime, count: int = 5) -> list[Occurrence]:
    """The next `count` occurrences at or after `after`, within SEARCH_YEARS."""
    limit = after + timedelta(days=366 * SEARCH_YEARS)
    return list(islice(_iterate(spec, after, limit), count))


def next_occurrence(spec: RuleSpec, after: datetime) -> datetime | None:
    found = next_occurrences(spec, after, 1)
    return found[0].at if found else None


def validate_spec(spec: RuleSpec, *, now: datetime) -> None:
    """The rule can be used and fires at least once from now on."""
    if spec.ends_on is not None and spec.ends_on < spec.starts_on:
        raise RuleError("The end date is before the start date.")
    _base_rule(spec)  # raises RuleError for a bad kind, days or RRULE
    if next_occurrence(spec, now) is None:
        raise RuleError(
            "This rule never fires from now on"
            + (" before its end date" if spec.ends_on else f" within {SEARCH_YEARS} years")
            + ": check the days and dates."
        )


def describe(spec: RuleSpec) -> str:
    """The rule in words: "Every weekday (Mon to Fri) at 09:00 America/New_York"."""
    at = f"at {spec.time_of_day:%H:%M} {spec.time_zone}"
    if spec.kind == DAILY:
        what = "Every day"
    elif spec.kind == WEEKDAYS:
        what = "Every weekday (Mon to Fri)"
    elif spec.kind == WEEKLY:
        what = "Every week on " + ", ".join(DAY_NAMES[d] for d in sorted(set(spec.weekdays)))
    elif spec.kind == MONTHLY:
        day = spec.month_day or 0
        what = f"Every month on day {day}"
        if day > 28:
            what += " (the last day in shorter months)"
    else:
        what = f"RRULE {clean_rrule(spec.rrule)}"
    span = f", from {spec.starts_on:%Y-%m-%d}"
    if spec.ends_on:
        span += f" to {spec.ends_on:%Y-%m-%d}"
    return f"{what} {at}{span}"
