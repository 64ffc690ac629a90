"""Everything the dashboard page shows, read once per request: the selectors' numbers and the
charts drawn from them. Read-only: nothing here changes state."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.conf import settings

from auth_tokens.api import TokenEvent, humanize, token_status
from monitoring import charts, selectors
from smsapp.sending_health import sending_health


def dashboard_context(*, now: datetime, zone: tzinfo) -> dict[str, Any]:
    start = selectors.window_start(now, zone)
    hours = selectors.hourly_outcomes(start=start, now=now, zone=zone)
    summary = selectors.delivery_summary(start=start)
    marks = selectors.token_timeline(start=start, zone=zone)
    queue = selectors.queue_state(now=now)
    token = token_status()
    health = sending_health()
    oldest = queue.oldest_age(now)
    return {
        "start": start,
        "hours_chart": charts.hourly_outcomes_chart(hours, zone),
        "legend": [
            (outcome, charts.OUTCOME_COLOURS[outcome], sum(h.counts[outcome] for h in hours))
            for outcome in selectors.OUTCOMES
        ],
        "summary": summary,
        "delivery_rate": None if summary.rate is None else f"{summary.rate * 100:.1f} %",
        "median_delivery": (
            None
            if summary.median_delivery is None
            else humanize.duration(summary.median_delivery.total_seconds())
        ),
        "reasons": [
            (reason, charts.share_bar(reason.share))
            for reason in selectors.top_failure_reasons(start=start)
        ],
        "token": token,
        "access_expiry": _expiry(token.access_expires_at, now),
        "refresh_expiry": _expiry(token.refresh_expires_at, now),
        "token_chart": charts.token_timeline_chart(
            marks, start=start, hours=len(hours), zone=zone, kinds=dict(TokenEvent.Kind.choices)
        ),
        "token_events": selectors.recent_token_events(),
        "queue": queue,
        "oldest_waiting": None if oldest is None else humanize.duration(oldest.total_seconds()),
        "limiter": selectors.limiter_state(),
        "problems": health.problems,
        "workers": health.checks.get("workers"),
        "alerts": selectors.alert_states(),
        "admins_configured": bool(settings.ADMINS),
        "alert_queued_minutes": settings.ALERT_QUEUED_MINUTES,
        "alert_refresh_hours": settings.ALERT_REFRESH_HOURS,
    }


def _expiry(when: datetime | None, now: datetime) -> str:
    """ "expires in 52 min", "expired 3 h ago" or "none held" (logged out, blocked)."""
    if when is None:
        return "none held"
    text = humanize.expiry(when, now=now)
    return text if text.startswith("expired") else f"expires {text}"
