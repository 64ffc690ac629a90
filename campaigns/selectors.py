"""Reads for the bulk pages: progress counts, rows by status, the estimate, results."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, QuerySet

from campaigns.models import A2PBatch, BulkRecipient, BulkSend
from smsapp.backends.ringcentral import sms_limiter
from smsapp.models import Message

Row = BulkRecipient.Status
# What the progress bar shows, in order: each row is in exactly one.
STAGES = ("waiting", "queued", "sent", "delivered", "failed", "canceled")
_MESSAGE_STAGE = {
    Message.Status.SCHEDULED: "queued",
    Message.Status.QUEUED: "queued",
    Message.Status.SENDING: "queued",
    Message.Status.UNCERTAIN: "queued",
    Message.Status.SENT: "sent",
    Message.Status.DELIVERED: "delivered",
    Message.Status.FAILED: "failed",
    Message.Status.CANCELED: "canceled",
}
_ROW_STAGE = {
    Row.PENDING: "waiting",
    Row.BATCHED: "queued",
    Row.QUEUED: "queued",
    Row.SENT: "sent",
    Row.DELIVERED: "delivered",
    Row.FAILED: "failed",
    Row.REJECTED: "failed",
    Row.CANCELED: "canceled",
}


@dataclass(frozen=True)
class Progress:
    counts: dict[str, int]
    total: int  # the lines that were to be sent (not the skipped ones)

    def percent(self, stage: str) -> float:
        return 100.0 * self.counts.get(stage, 0) / self.total if self.total else 0.0

    @property
    def finished(self) -> int:
        """Lines whose story is over: delivered, failed or canceled."""
        return sum(self.counts.get(s, 0) for s in ("delivered", "failed", "canceled"))

    @property
    def bar(self) -> list[tuple[str, int, float]]:
        return [(s, self.counts.get(s, 0), self.percent(s)) for s in STAGES]

    @property
    def segments(self) -> list[tuple[str, float, float]]:
        """(stage, where it starts, how wide), in percent, for the stages with rows: the
        bar is SVG rects (attributes, not inline styles, which the CSP refuses)."""
        drawn, start = [], 0.0
        for stage, count, width in self.bar:
            if count:
                drawn.append((stage, start, width))
                start += width
        return drawn


def bulk_progress(bulk: BulkSend) -> Progress:
    """One grouped query over the rows (and their texts' statuses)."""
    counts: Counter[str] = Counter()
    for row in (
        BulkRecipient.objects.filter(bulk=bulk)
        .exclude(status=Row.SKIPPED)
        .values("status", "message__status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        stage = (
            _MESSAGE_STAGE.get(row["message__status"], "queued")
            if row["status"] == Row.MESSAGE
            else _ROW_STAGE.get(row["status"], "waiting")
        )
        counts[stage] += row["n"]
    return Progress(dict(counts), sum(counts.values()))


def row_stage(row: BulkRecipient) -> str:
    if row.status == Row.SKIPPED:
        return "skipped"
    if row.status == Row.MESSAGE and row.message is not None:
        return _MESSAGE_STAGE.get(row.message.status, "queued")
    return _ROW_STAGE.get(row.status, "waiting")


def row_reason(row: BulkRecipient) -> str:
    if row.skip_reason:
        return row.skip_reason
    if row.message is not None:
        return row.message.error_reason
    return row.error_code


def bulk_rows(
    bulk: BulkSend, *, skipped: bool = False, every: bool = False
) -> QuerySet[BulkRecipient]:
    """The lines to send (or the skipped ones, or `every` line), in file order."""
    rows = BulkRecipient.objects.filter(bulk=bulk).select_related("message").order_by("line")
    if every:
        return rows
    return rows.filter(status=Row.SKIPPED) if skipped else rows.exclude(status=Row.SKIPPED)


@dataclass(frozen=True)
class Estimate:
    minutes: float
    requests: int
    how: str

    @property
    def duration(self) -> str:
        """ "under a minute", "about 12 minutes", "about 4.2 hours"."""
        if self.minutes < 1:
            return "under a minute"
        if self.minutes < 90:
            minutes = round(self.minutes)
            return f"about {minutes} minute{'s' if minutes != 1 else ''}"
        return f"about {self.minutes / 60:.1f} hours"


def bulk_estimate(bulk: BulkSend) -> Estimate:
    """How long handing every line to RingCentral takes: the fleet's pace for the pipeline
    (RingCentral's limit, 40 a minute by default, shared with every other text), or the
    number of A2P requests (each takes seconds; carriers then pace delivery themselves)."""
    count = bulk.valid_count
    if bulk.via == BulkSend.Via.A2P:
        requests = math.ceil(count / settings.SMS_A2P_BATCH_SIZE) if count else 0
        return Estimate(requests / 60.0 * 2, requests, "a2p")
    pace = sms_limiter().per_minute()
    return Estimate(count / pace if pace else 0.0, count, f"{pace:g} a minute")


def failed_batch(bulk: BulkSend) -> A2PBatch | None:
    """The batch RingCentral refused, which paused the send: its error says what to fix."""
    return bulk.batches.filter(status=A2PBatch.Status.FAILED).order_by("-id").first()
