"""The dashboard's reads: one aggregate query per chart (a GROUP BY over an indexed range),
never a loop over rows, so the page costs the same at a hundred texts or a million.

Times are grouped into hours of the viewer's zone (TruncHour in the database) and keyed by the
hour's start as a UTC instant, so a day with a clock change has 23 or 25 hours, each once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

import redis
from django.conf import settings
from django.db.models import Count, DateTimeField, DurationField, ExpressionWrapper, F, Max, Min, Q
from django.db.models.functions import Coalesce, TruncHour

from auth_tokens.api import TokenEvent
from monitoring.models import AlertState
from monitoring.reason_classes import reason_class
from smsapp.models import Message
from smsapp.ratelimit import FleetRateLimiter, shared_redis

logger = logging.getLogger(__name__)
Status = Message.Status
WINDOW = timedelta(days=7)
HOUR = timedelta(hours=1)

# The outcomes the hourly chart stacks, bottom to top, and the statuses each one covers.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "delivered": (Status.DELIVERED,),
    "sent": (Status.SENT,),
    "failed": (Status.FAILED,),
    "canceled": (Status.CANCELED,),
    "waiting": (Status.SCHEDULED, Status.QUEUED, Status.SENDING, Status.UNCERTAIN),
}
_OUTCOME_OF = {status: outcome for outcome, statuses in OUTCOMES.items() for status in statuses}
# The rate-limit groups the fleet's limiter paces (smsapp.backends.ringcentral): sends use
# Medium, status reads and the message sync Light.
LIMITER_GROUPS = {"Medium": "sending texts", "Light": "status checks and replies"}


@dataclass(frozen=True)
class HourCounts:
    start: datetime  # the hour's start, in UTC
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def window_start(now: datetime, zone: tzinfo) -> datetime:
    """The start of the viewer's local hour seven days ago, in UTC: the chart's first bar."""
    local = (now - WINDOW).astimezone(zone)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def hourly_outcomes(*, start: datetime, now: datetime, zone: tzinfo) -> list[HourCounts]:
    """Texts created in each hour from `start` to now, by their outcome so far: every hour of
    the window, empty ones included. One GROUP BY (hour, status) over the created_at index."""
    rows = (
        Message.objects.filter(created_at__gte=start)
        .annotate(hour=TruncHour("created_at", tzinfo=zone))
        .values("hour", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[datetime, dict[str, int]] = {}
    for row in rows:
        hour = counts.setdefault(row["hour"].astimezone(UTC), dict.fromkeys(OUTCOMES, 0))
        hour[_OUTCOME_OF[row["status"]]] += row["n"]
    hours = []
    at = start
    while at <= now:
        hours.append(HourCounts(at, counts.get(at, dict.fromkeys(OUTCOMES, 0))))
        at += HOUR
    return hours


@dataclass(frozen=True)
class DeliverySummary:
    total: int
    delivered: int
    failed: int
    sent: int  # accepted by RingCentral, no receipt yet
    median_delivery: timedelta | None  # from accepted (sent_at) to delivered (delivered_at)

    @property
    def rate(self) -> float | None:
        """Delivered among the texts with a final outcome (delivered or failed)."""
        finished = self.delivered + self.failed
        return self.delivered / finished if finished else None


def delivery_summary(*, start: datetime) -> DeliverySummary:
    """Two queries: the counts in one aggregate, then the median delivery time as the middle
    row of the delivered texts' durations (portable: PostgreSQL and SQLite alike)."""
    texts = Message.objects.filter(created_at__gte=start)
    timed = Q(status=Status.DELIVERED, sent_at__isnull=False, delivered_at__isnull=False)
    totals = texts.aggregate(
        total=Count("id"),
        delivered=Count("id", filter=Q(status=Status.DELIVERED)),
        failed=Count("id", filter=Q(status=Status.FAILED)),
        sent=Count("id", filter=Q(status=Status.SENT)),
        timed=Count("id", filter=timed),
    )
    median = None
    if totals["timed"]:
        took = ExpressionWrapper(F("delivered_at") - F("sent_at"), output_field=DurationField())
        median = (
            texts.filter(timed)
            .annotate(took=took)
            .order_by("took")
            .values_list("took", flat=True)[totals["timed"] // 2]
        )
    return DeliverySummary(
        totals["total"], totals["delivered"], totals["failed"], totals["sent"], median
    )


@dataclass(frozen=True)
class FailureReason:
    code: str
    count: int
    reason: str  # one text's wording of it (they differ only in counts and times)
    reason_class: str
    share: float  # of all failed texts in the window


def top_failure_reasons(*, start: datetime, limit: int = 8) -> list[FailureReason]:
    """The commonest error codes of failed texts: one GROUP BY over (status, created_at)."""
    rows = list(
        Message.objects.filter(status=Status.FAILED, created_at__gte=start)
        .values("error_code")
        .annotate(n=Count("id"), reason=Max("error_reason"))
        .order_by("-n", "error_code")
    )
    failed = sum(row["n"] for row in rows)
    return [
        FailureReason(
            row["error_code"] or "(none)",
            row["n"],
            row["reason"],
            reason_class(row["error_code"]),
            row["n"] / failed,
        )
        for row in rows[:limit]
    ]


@dataclass(frozen=True)
class TokenMark:
    hour: datetime  # UTC
    kind: str
    label: str
    count: int
    codes: str  # the error codes seen, comma-separated


def token_timeline(*, start: datetime, zone: tzinfo) -> list[TokenMark]:
    """Token events by hour and kind (one GROUP BY over the (at, id) index)."""
    rows = (
        TokenEvent.objects.filter(at__gte=start)
        .annotate(hour=TruncHour("at", tzinfo=zone))
        .values("hour", "kind", "error_code")
        .annotate(n=Count("id"))
        .order_by("hour", "kind")
    )
    marks: dict[tuple[datetime, str], TokenMark] = {}
    labels = dict(TokenEvent.Kind.choices)
    for row in rows:
        key = (row["hour"].astimezone(UTC), row["kind"])
        seen = marks.get(key)
        codes = ", ".join(c for c in (seen.codes if seen else "", row["error_code"]) if c)
        marks[key] = TokenMark(
            key[0], row["kind"], labels[row["kind"]], row["n"] + (seen.count if seen else 0), codes
        )
    return list(marks.values())


def recent_token_events(*, limit: int = 12) -> list[TokenEvent]:
    return list(TokenEvent.objects.order_by("-at", "-id")[:limit])


@dataclass(frozen=True)
class QueueState:
    counts: dict[str, int]  # scheduled, queued, sending, uncertain
    oldest_due: datetime | None  # the due time of the longest-waiting text (queued, or due)

    def oldest_age(self, now: datetime) -> timedelta | None:
        return max(now - self.oldest_due, timedelta(0)) if self.oldest_due else None


def queue_state(*, now: datetime) -> QueueState:
    """Texts not yet at RingCentral, by status (one GROUP BY over the status indexes), and the
    oldest due one: queued, or scheduled and past its time (beat has not dispatched it)."""
    waiting = (Status.SCHEDULED, Status.QUEUED, Status.SENDING, Status.UNCERTAIN)
    rows = (
        Message.objects.filter(status__in=waiting)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = dict.fromkeys(waiting, 0) | {row["status"]: row["n"] for row in rows}
    # Waiting since it was due (its send time, or its creation), as /healthz counts it.
    oldest = Message.objects.filter(
        Q(status=Status.QUEUED) | Q(status=Status.SCHEDULED, send_at__lte=now)
    ).aggregate(oldest=Min(Coalesce("send_at", "created_at", output_field=DateTimeField())))
    return QueueState({str(k): v for k, v in counts.items()}, oldest["oldest"])


@dataclass(frozen=True)
class LimiterGroup:
    group: str
    use: str
    per_minute: float | None
    paused_for: float  # seconds left of a fleet-wide pause after a 429; 0 when none


@dataclass(frozen=True)
class LimiterState:
    groups: list[LimiterGroup] = field(default_factory=list)
    error: str = ""  # Redis did not answer


def limiter_state() -> LimiterState:
    """Read only: each group's pace and the pause a 429 put the whole fleet in (its Retry-After:
    RingCentral's penalty, which every request during it would restart)."""
    try:
        client = shared_redis(settings.REDIS_URL, timeout=2.0)
        now = client.time()
        now_seconds = now[0] + now[1] / 1e6
        groups = []
        for group, use in LIMITER_GROUPS.items():
            paused = client.get(f"smsapp:ratelimit:{group}:paused-until")
            left = max(0.0, float(paused) - now_seconds) if paused else 0.0
            # The pace only for sends: the Light group's budget is split between several
            # readers (smsapp.backends.ringcentral), each with its own share.
            pace = None
            if group == "Medium":
                pace = FleetRateLimiter(group, settings.SMS_RATE_LIMIT_PER_MINUTE).per_minute()
            groups.append(LimiterGroup(group, use, pace, left))
    except redis.RedisError as error:
        return LimiterState(error=f"Redis does not answer ({type(error).__name__})")
    return LimiterState(groups)


def alert_states() -> list[AlertState]:
    return list(AlertState.objects.all())
