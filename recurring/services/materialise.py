"""The materialiser: each time a recurring send falls due becomes ordinary texts, exactly once.

Run by beat beside the dispatcher (recurring.tasks). Each time (an Occurrence) is made through
smsapp.services.messages.message_submit, as a scheduled text when it is still ahead (then the
dispatcher, cancel, history, opt-outs and the rate limit treat it as any other), or queued at
once when it is a little late. Exactly once per rule and time, even with two beats or a
materialiser that was down: the rule row is claimed FOR UPDATE SKIP LOCKED, its cursor moves on
in the same transaction, the Occurrence row is unique per (rule, time), and its texts carry a
submission key of their own (message_submit's one set per key). docs/recurring.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from recurring import rules
from recurring.models import Occurrence, RecurringSend
from smsapp.services.messages import message_submit
from smsapp.services.optouts import opted_out_numbers
from smsapp.timing import dispatch_horizon

# Rules handled per run, and times per rule per run: a rule missed for years (its cursor far
# back) is caught up over several runs rather than in one long transaction.
RULES_PER_RUN = 200
TIMES_PER_RULE = 500

Status = Occurrence.Status
logger = logging.getLogger(__name__)


@dataclass
class Materialised:
    """What one run did: times turned into texts, recorded as missed, or refused."""

    created: int = 0
    skipped: int = 0
    failed: int = 0

    def add(self, other: Materialised) -> None:
        self.created += other.created
        self.skipped += other.skipped
        self.failed += other.failed


def materialise_horizon() -> timedelta:
    """How far ahead times are turned into texts: the dispatcher's horizon, twice. The
    dispatcher queues what falls due within one horizon of its run; a text made one horizon
    ahead exists before any dispatcher run that should queue it, whatever order beat runs the
    two tasks in, so it goes out at its second rather than a run late. The cost: a pause takes
    effect after the texts of the next few seconds (they can be canceled in History)."""
    return 2 * dispatch_horizon()


def missed_grace() -> timedelta:
    return timedelta(seconds=settings.SMS_RECURRING_MISSED_GRACE_SECONDS)


def occurrence_key(recurring_id: int, at: datetime) -> str:
    """The texts' submission key: one set per rule and time (smsapp Message's unique key)."""
    return f"recurring-{recurring_id}-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def recurring_sends_materialise(*, now: datetime | None = None) -> Materialised:
    """Turn every active rule's times up to the horizon into texts (or into "missed" records);
    returns the counts."""
    now = now or timezone.now()
    until = now + materialise_horizon()
    due = list(
        RecurringSend.objects.filter(paused=False, next_occurrence_at__lte=until)
        .order_by("next_occurrence_at", "id")
        .values_list("pk", flat=True)[:RULES_PER_RUN]
    )
    done = Materialised()
    for pk in due:
        done.add(_materialise_one(pk, now=now, until=until))
    if done.created or done.skipped or done.failed:
        logger.info(
            "recurring sends: %s times sent, %s missed, %s refused",
            done.created,
            done.skipped,
            done.failed,
        )
    return done


def _materialise_one(pk: int, *, now: datetime, until: datetime) -> Materialised:
    done = Materialised()
    with transaction.atomic():
        # Another materialiser holding the rule is doing this very work: skip it, never wait.
        # Read after the lock: a rule paused, edited or handled meanwhile is seen as it is now.
        recurring = (
            RecurringSend.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=pk, paused=False, next_occurrence_at__lte=until)
            .select_related("created_by")
            .first()
        )
        if recurring is None or recurring.next_occurrence_at is None:
            return done
        spec = recurring.spec()
        times = rules.occurrences_between(spec, recurring.next_occurrence_at, until)
        times = times[:TIMES_PER_RULE]
        # Late but within the grace: only the latest of them goes (a beat down for three
        # times of a frequent rule must not send three reminders in a burst).
        late = [t.at for t in times if now - missed_grace() <= t.at < now]
        for occurrence in times:
            at = occurrence.at
            if at < now and (not late or at != late[-1]):
                reason = (
                    "missed by more than SMS_RECURRING_MISSED_GRACE_SECONDS "
                    f"({settings.SMS_RECURRING_MISSED_GRACE_SECONDS:g} s): no materialiser ran "
                    "at its time"
                    if at < now - missed_grace()
                    else "missed, and a later time was sent instead"
                )
                done.skipped += _record_skipped(recurring, at, reason)
            else:
                status = _create(recurring, at, now=now)
                if status == Status.CREATED:
                    done.created += 1
                elif status == Status.FAILED:
                    done.failed += 1
        after = times[-1].at + timedelta(microseconds=1) if times else until
        recurring.next_occurrence_at = rules.next_occurrence(spec, after)
        recurring.save(update_fields=("next_occurrence_at",))
    return done


def _record_skipped(recurring: RecurringSend, at: datetime, reason: str) -> int:
    try:
        with transaction.atomic():
            Occurrence.objects.create(
                recurring_send=recurring, occurs_at=at, status=Status.SKIPPED, reason=reason
            )
    except IntegrityError:
        return 0  # recorded already
    return 1


def _create(recurring: RecurringSend, at: datetime, *, now: datetime) -> str | None:
    """The Occurrence row, then its texts; None when the time was handled already."""
    key = occurrence_key(recurring.pk, at)
    try:
        # A savepoint: a second insert for this time (a rule edited back to a time already
        # made) is refused by the unique key and changes nothing else.
        with transaction.atomic():
            occurrence = Occurrence.objects.create(
                recurring_send=recurring, occurs_at=at, status=Status.CREATED, submission_key=key
            )
    except IntegrityError:
        return None
    numbers = list(recurring.to_numbers)
    # Someone who opted out since the rule was saved is left out, not the whole time: the
    # others still get their reminder (message_submit refuses a send naming any of them).
    refused = opted_out_numbers(our_number=settings.SMS_FROM_NUMBER, numbers=numbers)
    numbers = [number for number in numbers if number not in refused]
    notes = [f"left out, opted out: {', '.join(refused)}"] if refused else []
    if not numbers:
        occurrence.status = Status.FAILED
        occurrence.reason = "every recipient has opted out"
    else:
        try:
            with transaction.atomic():
                submission = message_submit(
                    to_numbers=numbers,
                    text=recurring.text,
                    created_by=recurring.created_by,
                    # Still ahead: a scheduled text; a little late (within the grace): now.
                    send_at=at if at > now else None,
                    submission_key=key,
                )
        except ValidationError as error:
            occurrence.status = Status.FAILED
            notes.insert(0, " ".join(error.messages))
        else:
            occurrence.message_count = len(submission.messages)
            if at <= now:
                notes.insert(0, f"late by {(now - at).total_seconds():.0f} s: sent at once")
    occurrence.reason = "; ".join([occurrence.reason, *notes] if occurrence.reason else notes)[:500]
    occurrence.save(update_fields=("status", "reason", "message_count"))
    return occurrence.status
