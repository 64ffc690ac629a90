"""Gauges read when Prometheus scrapes: facts of the database and of Redis, not of a process.

Token expiry, queue depth, the oldest waiting text and the fleet's pauses are each one cheap
read (a token row, one grouped query over indexed statuses, a few Redis keys). Read at scrape
time they are right whichever process changed them, and no process has to keep them current.

A part that cannot be read (the database or Redis is down) is left out of the answer and
`smsapp_metrics_part_up{part}` says 0: the counters still come through, and an alert on the
part being down is more useful than a failed scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from auth_tokens import api as tokens
from smsapp.models import Message
from smsapp.ratelimit import FleetRateLimiter

logger = logging.getLogger(__name__)
Status = Message.Status
TOKEN_STATES = (
    tokens.NOT_CONFIGURED,
    tokens.NOT_LOGGED_IN,
    tokens.HEALTHY,
    tokens.ACCESS_EXPIRED,
    tokens.REFRESH_EXPIRED,
    tokens.THROTTLED,
    tokens.BLOCKED,
)
# The statuses of a text that is due and not yet at RingCentral, or not known to be: what
# smsapp.sending_health calls waiting, so the alert and the staff banner agree.
WAITING = (Status.QUEUED, Status.SENDING, Status.UNCERTAIN)
LIMITER_GROUPS = ("Medium", "Light", "Heavy")


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "smsapp_metrics_part_up",
            "1 when this part of /metrics could be read at this scrape (token, queue, limiter)",
            labels=["part"],
        )
        for part, read in (("token", _token), ("queue", _queue), ("limiter", _limiter)):
            try:
                families = list(read())
            except Exception as error:
                logger.warning("metrics: the %s part failed: %s", part, type(error).__name__)
                up.add_metric([part], 0)
                continue
            up.add_metric([part], 1)
            yield from families
        yield up


def _seconds_until(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else (moment - now).total_seconds()


def _token() -> Iterator[GaugeMetricFamily]:
    report = tokens.token_status()
    now = timezone.now()
    state = GaugeMetricFamily(
        "smsapp_token_state",
        "1 for the RingCentral token's current state (healthy, blocked, throttled, ...), 0 else",
        labels=["state"],
    )
    for name in TOKEN_STATES:
        state.add_metric([name], 1 if report.state == name else 0)
    yield state
    yield GaugeMetricFamily(
        "smsapp_token_blocked",
        "1 while automatic RingCentral logins are paused after rejected credentials",
        value=1 if report.state == tokens.BLOCKED else 0,
    )
    for name, moment, what in (
        ("smsapp_token_access_expires_in_seconds", report.access_expires_at, "access"),
        ("smsapp_token_refresh_expires_in_seconds", report.refresh_expires_at, "refresh"),
    ):
        left = _seconds_until(moment, now)
        if left is not None:  # absent while there is no such token
            yield GaugeMetricFamily(
                name, f"Seconds until the stored {what} token expires (negative: expired)", left
            )


def _queue() -> Iterator[GaugeMetricFamily]:
    rows = (
        Message.objects.filter(status__in=WAITING)
        .values("status")
        .annotate(count=Count("id"), oldest=Min(Coalesce("send_at", "created_at")))
    )
    by_status = {row["status"]: row for row in rows}
    now = timezone.now()
    oldest = min((row["oldest"] for row in by_status.values()), default=None)

    def count(status: str) -> int:
        return by_status.get(status, {}).get("count", 0)

    yield GaugeMetricFamily(
        "smsapp_queue_depth",
        "Texts queued for sending, due now or waiting for a retry time",
        value=count(Status.QUEUED),
    )
    yield GaugeMetricFamily(
        "smsapp_texts_sending", "Texts being sent at this moment", value=count(Status.SENDING)
    )
    yield GaugeMetricFamily(
        "smsapp_uncertain_texts",
        "Texts whose attempt may or may not have reached RingCentral, being checked in its "
        "message store before anything is resent",
        value=count(Status.UNCERTAIN),
    )
    yield GaugeMetricFamily(
        "smsapp_oldest_queued_text_age_seconds",
        "How long the oldest text not yet accepted (queued, sending or uncertain) has waited "
        "since it was due; 0 when none waits",
        value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    )


def _limiter() -> Iterator[GaugeMetricFamily]:
    pause = GaugeMetricFamily(
        "smsapp_rate_limit_pause_remaining_seconds",
        "Seconds left of the fleet-wide pause of each RingCentral API group (0: not paused)",
        labels=["group"],
    )
    for group in LIMITER_GROUPS:
        pause.add_metric([group], FleetRateLimiter(group, 0).pause_left())
    yield pause
