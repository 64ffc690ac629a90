"""Token times for people: compact countdowns ("in 52 min", "expired 3 h ago") and timestamps."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

# Not django.utils.timesince: it joins number and unit with a no-break space, which turns up as
# odd bytes in terminals and log greps; and "6 d 23 h" says more than "6 days" at a glance.
_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def duration(seconds: float) -> str:
    """The largest unit, plus the next one for days and hours: "6 d 23 h", "2 h 5 min"."""
    left = int(abs(seconds))
    for index, (name, size) in enumerate(_UNITS):
        if left >= size or name == "s":
            major, rest = divmod(left, size)
            text = f"{major} {name}"
            if name in ("d", "h"):
                minor_name, minor_size = _UNITS[index + 1]
                if rest // minor_size:
                    text += f" {rest // minor_size} {minor_name}"
            return text
    raise AssertionError("unreachable: the last unit always matches")


def expiry(when: datetime | None, *, now: datetime | None = None) -> str:
    """ "in 52 min" or "expired 3 h ago"; "none" without a time."""
    if when is None:
        return "none"
    seconds = (when - (now or timezone.now())).total_seconds()
    if seconds >= 0:
        return f"in {duration(seconds)}"
    return f"expired {duration(seconds)} ago"


def ago(when: datetime | None, *, now: datetime | None = None) -> str:
    """ "3 h ago"; "never" without a time."""
    if when is None:
        return "never"
    seconds = ((now or timezone.now()) - when).total_seconds()
    if seconds < 0:  # clocks of two machines disagree: say so rather than "-2 s ago"
        return f"in {duration(seconds)}"
    return f"{duration(seconds)} ago"


def stamp(when: datetime | None) -> str:
    """An absolute time in the site's time zone, to the second."""
    if when is None:
        return "none"
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S %Z")
