"""The dashboard's charts as inline SVG, drawn here from the selectors' numbers: no script, no
library, nothing fetched, so they work offline and under the CSP (presentation attributes such
as fill= are not styles). Every text that goes in is escaped; every bar carries a <title> that
says its numbers, for a pointer's hover and for screen readers.

Sizes are in the SVG's own units; the page scales the whole drawing to its width (and on a
phone scrolls it sideways inside its frame, monitoring.css)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from monitoring.selectors import OUTCOMES, HourCounts, TokenMark

# One colour per outcome, as the bulk send's progress bar has them (campaigns.css).
OUTCOME_COLOURS = {
    "delivered": "#1f7a3f",
    "sent": "#3f78c9",
    "failed": "#b3261e",
    "canceled": "#6b7280",
    "waiting": "#c9ced6",
}
TOKEN_COLOURS = {
    "refreshed": "#3f78c9",
    "logged_in": "#1f7a3f",
    "refresh_refused": "#b26a00",
    "login_failed": "#b3261e",
    "throttled": "#b26a00",
    "blocked": "#7a0f0a",
    "block_cleared": "#1f7a3f",
    "revoked": "#6b7280",
}
BAR = 6  # units per hour
LEFT = 44  # room for the counts on the y axis
TOP = 10
PLOT_HEIGHT = 180
AXIS = 28  # room for the day labels
INK = "#4d5662"
GRID = "#d0d6de"


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _local(when: datetime, zone: tzinfo, pattern: str) -> str:
    return when.astimezone(zone).strftime(pattern)


def _svg(width: float, height: float, label: str, body: Iterable[str], css: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every dynamic part below went through escape()
        f'<svg class="{css}" viewBox="0 0 {_number(width)} {_number(height)}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        + "".join(body)
        + "</svg>"
    )


def _day_ticks(hours: list[datetime], zone: tzinfo) -> list[tuple[int, str]]:
    """(bar index, "Mon 30") at each local midnight among the hours."""
    return [
        (index, _local(start, zone, "%a %d"))
        for index, start in enumerate(hours)
        if start.astimezone(zone).hour == 0
    ]


def hourly_outcomes_chart(hours: list[HourCounts], zone: tzinfo) -> SafeString:
    """Stacked bars, one per hour with texts, coloured by outcome (OUTCOMES' order, bottom up)."""
    width = LEFT + BAR * len(hours) + 4
    height = TOP + PLOT_HEIGHT + AXIS
    top = _axis_top(max((hour.total for hour in hours), default=0))
    scale = PLOT_HEIGHT / top
    base = TOP + PLOT_HEIGHT
    body = []
    for tick in (0, top // 2, top) if top > 1 else (0, top):
        y = base - tick * scale
        body.append(
            f'<line x1="{LEFT}" x2="{_number(width)}" y1="{_number(y)}" y2="{_number(y)}" '
            f'stroke="{GRID}" stroke-width="1"></line>'
            f'<text x="{LEFT - 6}" y="{_number(y + 4)}" text-anchor="end" font-size="12" '
            f'fill="{INK}">{tick}</text>'
        )
    for index, label in _day_ticks([hour.start for hour in hours], zone):
        x = LEFT + index * BAR
        body.append(
            f'<line x1="{x}" x2="{x}" y1="{TOP}" y2="{base + 6}" stroke="{GRID}"></line>'
            f'<text x="{x + 3}" y="{base + 20}" font-size="13" fill="{INK}">{escape(label)}</text>'
        )
    for index, hour in enumerate(hours):
        if not hour.total:
            continue
        x = LEFT + index * BAR
        when = _local(hour.start, zone, "%a %d %b %H:%M %Z")
        said = ", ".join(f"{n} {outcome}" for outcome, n in hour.counts.items() if n)
        rects = []
        y = base
        for outcome in OUTCOMES:
            count = hour.counts[outcome]
            if not count:
                continue
            tall = count * scale
            y -= tall
            rects.append(
                f'<rect class="bar-{outcome}" x="{x}" y="{_number(y)}" width="{BAR - 1}" '
                f'height="{_number(tall)}" fill="{OUTCOME_COLOURS[outcome]}"></rect>'
            )
        body.append(
            f'<g class="hour" data-hour="{hour.start.isoformat()}" data-total="{hour.total}">'
            f"<title>{escape(when)}: {escape(said)}</title>{''.join(rects)}</g>"
        )
    total = sum(hour.total for hour in hours)
    return _svg(width, height, f"Texts per hour, {total} in all", body, "chart chart-hours")


def _axis_top(value: int) -> int:
    """The y axis's top: the smallest of 1, 2, 5, 10, 20, 50, ... that is at least `value`."""
    top, steps = 1, (2, 2.5, 2)
    index = 0
    while top < value:
        top = int(top * steps[index % 3])
        index += 1
    return top


def token_timeline_chart(
    marks: list[TokenMark], *, start: datetime, hours: int, zone: tzinfo, kinds: dict[str, str]
) -> SafeString:
    """A lane per kind of token event that happened, a dot per hour with events (larger for
    more), on the same seven-day axis as the hourly chart."""
    lanes = [kind for kind in kinds if any(mark.kind == kind for mark in marks)]
    lane_height = 22
    label_width = 180  # "automatic logins blocked" at 12 units
    width = label_width + BAR * hours + 4
    height = TOP + lane_height * max(len(lanes), 1) + AXIS
    base = TOP + lane_height * max(len(lanes), 1)
    body = []
    starts = [start + timedelta(hours=n) for n in range(hours)]
    for index, label in _day_ticks(starts, zone):
        x = label_width + index * BAR
        body.append(
            f'<line x1="{x}" x2="{x}" y1="{TOP}" y2="{base + 6}" stroke="{GRID}"></line>'
            f'<text x="{x + 3}" y="{base + 20}" font-size="13" fill="{INK}">{escape(label)}</text>'
        )
    if not lanes:
        body.append(
            f'<text x="{label_width}" y="{TOP + 15}" font-size="13" fill="{INK}">'
            "No token events in these days</text>"
        )
    for lane, kind in enumerate(lanes):
        y = TOP + lane * lane_height + lane_height / 2
        body.append(
            f'<line x1="{label_width}" x2="{_number(width)}" y1="{_number(y)}" '
            f'y2="{_number(y)}" stroke="{GRID}"></line>'
            f'<text x="{label_width - 8}" y="{_number(y + 4)}" text-anchor="end" '
            f'font-size="12" fill="{INK}">{escape(kinds[kind])}</text>'
        )
        for mark in (m for m in marks if m.kind == kind):
            index = round((mark.hour - start).total_seconds() / 3600)
            x = label_width + index * BAR + BAR / 2
            radius = min(3 + mark.count, 8)
            when = _local(mark.hour, zone, "%a %d %b %H:%M %Z")
            codes = f" ({mark.codes})" if mark.codes else ""
            body.append(
                f'<circle class="event event-{escape(kind)}" cx="{_number(x)}" cy="{_number(y)}" '
                f'r="{radius}" fill="{TOKEN_COLOURS.get(kind, INK)}"><title>{escape(when)}: '
                f"{mark.count} x {escape(mark.label)}{escape(codes)}</title></circle>"
            )
    return _svg(width, height, "Token events over the last days", body, "chart chart-tokens")


def share_bar(share: float) -> SafeString:
    """A small horizontal bar for a share from 0 to 1 (a failure reason's part of failures)."""
    filled = max(0.0, min(share, 1.0)) * 100
    return _svg(
        100,
        8,
        f"{filled:.0f} %",
        [
            f'<rect x="0" y="0" width="100" height="8" fill="#eef1f5"></rect>'
            f'<rect x="0" y="0" width="{_number(filled)}" height="8" fill="#b3261e"></rect>'
        ],
        "share-bar",
    )
