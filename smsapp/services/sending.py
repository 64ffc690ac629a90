"""Sending one message: claim it, call the backend outside any transaction, record the outcome."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any, assert_never

from django.conf import settings
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from auth_tokens.api import DEFAULT_RETRY_AFTER
from metrics import definitions as metrics
from metrics.reason_classes import send_error_class
from smsapp.backends import get_backend
from smsapp.backends.base import OnFailure, OutgoingSms, SmsError
from smsapp.models import Message
from smsapp.services.enqueue import enqueue_on_commit, enqueue_send
from smsapp.services.leases import lease_expiry, lease_kept_alive, lease_lapsed, new_holder
from smsapp.services.transitions import transition
from smsapp.timing import dispatch_horizon, stale_sending_after, uncertain_settle

logger = logging.getLogger(__name__)
Status = Message.Status
# First delivery-status look after RingCentral accepted a text.
FIRST_STATUS_CHECK = timedelta(seconds=10)
# An uncertain outcome that cannot be checked for this long becomes a failure a person sees.
UNCERTAIN_GIVE_UP = timedelta(days=1)
# Margin around an attempt's window when searching the store: our clock and RingCentral's may
# differ, and creationTime is RingCentral's.
CLOCK_MARGIN = timedelta(minutes=2)
# A text held for a person (the login, the settings) whose error did not say when to look
# again: a blocked login or missing setting is not fixed in seconds.
HOLD_RECHECK_SECONDS = 60.0


def backoff(attempt: int) -> timedelta:
    """Exponential, capped, with jitter so a burst of failures does not retry in lockstep."""
    ceiling = min(settings.SMS_RETRY_MAX_SECONDS, settings.SMS_RETRY_BASE_SECONDS * 2**attempt)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def message_send(*, message_id: int) -> str:
    """The send task's body. Returns what happened, in words, for the worker log."""
    now = timezone.now()
    holder = new_holder()
    # The claim and the lease are one UPDATE: there is no moment when the message is
    # "sending" without a lease that says whether its sender is alive.
    claimed = transition(
        message_id,
        from_statuses=[Status.QUEUED],
        to=Status.SENDING,
        event="Sending",  # who holds it is in lease_holder (admin), not for staff
        only_if=Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        claimed_at=now,
        lease_holder=holder,
        lease_expires_at=lease_expiry(),
        uncertain_since=None,
    )
    if not claimed:
        # A redelivered task (worker killed, or visibility timeout) or a duplicate dispatch:
        # the message is someone else's, done, or not due. Only an abandoned send is ours.
        current = (
            Message.objects.filter(pk=message_id)
            .values("status", "next_attempt_at", "dispatched_at")
            .first()
        )
        status = current["status"] if current else None
        if status in (Status.SENDING, Status.UNCERTAIN):
            return message_reconcile(message_id=message_id)
        # Handed to the broker for its time (dispatched_at set), not a stray task for a retry
        # that the dispatcher will queue itself.
        if status == Status.QUEUED and current["next_attempt_at"] and current["dispatched_at"]:
            early = (current["next_attempt_at"] - now).total_seconds()
            if 0 < early <= dispatch_horizon().total_seconds():
                # The countdown ran out a little early (clocks differ between hosts): wait
                # out the rest rather than leave it for the redispatch timeout.
                enqueue_send([message_id], countdowns={message_id: early})
                return f"early by {early:.3f} s: queued again for its time"
        return f"skipped: message is {status or 'gone'}"
    message = Message.objects.get(pk=message_id)
    sms = OutgoingSms(message.from_number, message.to_number, message.text)
    with lease_kept_alive(message_id, holder):
        try:
            provider_id = get_backend().send(sms)
        except SmsError as error:
            failure: SmsError | None = error
        else:
            failure = None
    if failure is not None:
        return _record_failure(message, failure, holder)
    if not _record_sent(
        message,
        provider_id,
        "Accepted by RingCentral",
        from_statuses=[Status.SENDING, Status.UNCERTAIN],
        holder=holder,
        count_attempt=True,
    ):
        # Our lease lapsed while the call ran (the database was unreachable for longer than
        # SMS_LEASE_SECONDS) and the sweeper settled the message meanwhile.
        logger.warning(
            "SMS #%s was accepted as %s after its attempt had been taken over; the sweeper's "
            "store lookup decides it",
            message_id,
            provider_id,
        )
        return f"sent as {provider_id}, but the attempt had been taken over"
    return f"sent as {provider_id}"


def message_reconcile(*, message_id: int) -> str:
    """Decide an uncertain or abandoned attempt from RingCentral's message store: sent if the
    text is there, sent again only if it certainly is not."""
    message = Message.objects.filter(pk=message_id).first()
    now = timezone.now()
    if message is None:
        return "skipped: gone"
    if message.status == Status.SENDING:
        # Abandoned: its holder stopped renewing the lease (died), or, as a backstop, it is
        # older than the slowest attempt could be.
        if not transition(
            message_id,
            from_statuses=[Status.SENDING],
            to=Status.UNCERTAIN,
            event="The send was interrupted (worker stopped?): checking RingCentral",
            only_if=lease_lapsed() | Q(claimed_at__lte=now - stale_sending_after()),
            attempts=F("attempts") + 1,
            # The holder was last alive when its lease ran out: its request, if any, left
            # before then, so the settle time counts from there, not from this sweep.
            uncertain_since=Least(
                Coalesce(F("lease_expires_at"), Value(now)),
                Value(now),
                output_field=DateTimeField(),
            ),
            lease_expires_at=None,
        ):
            return "skipped: still sending"
        message.refresh_from_db()
    elif message.status != Status.UNCERTAIN:
        return f"skipped: message is {message.status}"
    since = message.claimed_at or message.created_at
    # The attempt's request left between the claim and the moment its outcome became unknown.
    until = message.uncertain_since or now
    sms = OutgoingSms(message.from_number, message.to_number, message.text)
    try:
        candidates = get_backend().find_sent(sms, since - CLOCK_MARGIN, until + CLOCK_MARGIN)
    except SmsError as error:
        if now - since > UNCERTAIN_GIVE_UP:
            _fail(
                message,
                Status.UNCERTAIN,
                "UNCONFIRMED",
                f"Could not confirm with RingCentral whether it was sent: {error.reason}",
                reason_class="ambiguous",
            )
            return "failed: could not confirm"
        return f"still uncertain: {error.reason}"
    # Identical texts to the same number are possible: never claim another message's record.
    taken = set(
        Message.objects.filter(provider_message_id__in=candidates)
        .exclude(pk=message_id)
        .values_list("provider_message_id", flat=True)
    )
    found = [c for c in candidates if c not in taken]
    if found:
        _record_sent(
            message,
            found[0],
            "Found in RingCentral's message store: the attempt went out",
            from_statuses=[Status.UNCERTAIN],
        )
        return f"reconciled: sent as {found[0]}"
    if now - until < uncertain_settle():
        # Absent right after the attempt is not yet proof: an accepted text may take a moment
        # to show in the store. The sweeper asks again once the attempt is old enough.
        return "still uncertain: not in the message store yet"
    if message.attempts >= settings.SMS_MAX_ATTEMPTS:
        _fail(
            message,
            Status.UNCERTAIN,
            "MAX_ATTEMPTS",
            f"Not sent after {message.attempts} attempts",
            reason_class="ambiguous",
        )
        return "failed: attempts exhausted"
    if transition(
        message_id,
        from_statuses=[Status.UNCERTAIN],
        to=Status.QUEUED,
        event="Not in RingCentral's message store: sending again",
        # A holder that is still alive (its lease renewed) may yet record the outcome.
        only_if=lease_lapsed(),
        next_attempt_at=now,
        dispatched_at=now,
        uncertain_since=None,
    ):
        _attempt_outcome(message, "retry", "ambiguous", "NOT_IN_STORE", "not in the store")
        enqueue_on_commit([message_id])
    return "reconciled: not sent, queued again"


# -- outcomes -----------------------------------------------------------------------------


def _record_sent(
    message: Message,
    provider_id: str,
    event: str,
    *,
    from_statuses: list[str],
    holder: str | None = None,
    count_attempt: bool = False,
) -> bool:
    now = timezone.now()
    moved = transition(
        message.pk,
        from_statuses=from_statuses,
        to=Status.SENT,
        event=f"{event} (id {provider_id})",
        # The attempt's own answer counts only while the attempt is still the message's.
        only_if=Q(lease_holder=holder) if holder else None,
        provider_message_id=provider_id,
        sent_at=now,
        attempts=F("attempts") + (1 if count_attempt else 0),
        next_status_check_at=now + FIRST_STATUS_CHECK,
        held_since=None,
        lease_expires_at=None,
        uncertain_since=None,
        error_code="",
        error_reason="",
    )
    if moved:
        due = max(message.created_at, message.send_at or message.created_at)
        metrics.text_accepted((now - due).total_seconds())
        logger.info(
            "SMS #%s accepted by RingCentral as %s",
            message.pk,
            provider_id,
            extra={"message_id": message.pk},
        )
    return moved


def _attempt_outcome(
    message: Message, outcome: str, reason_class: str, code: str, what: str
) -> None:
    """Count an attempt's outcome and log it with the fields a log shipper indexes."""
    metrics.text_outcome(outcome, reason_class)
    logger.log(
        logging.WARNING if outcome == "failed" else logging.INFO,
        "SMS #%s %s: %s",
        message.pk,
        outcome.replace("_", " "),
        what,
        extra={"message_id": message.pk, "error_code": code},
    )


def _record_failure(message: Message, error: SmsError, holder: str) -> str:
    """Do what the error's class says the failure means for the text (its `on_failure`; the
    table is in docs/exactly-once.md, "When a send fails")."""
    now = timezone.now()
    match error.on_failure:
        case OnFailure.UNCERTAIN:
            return _look_up_first(message, error, now, holder)
        case OnFailure.FAIL:
            _fail(
                message,
                Status.SENDING,
                error.code,
                error.reason,
                count_attempt=True,
                holder=holder,
                reason_class=send_error_class(error),
            )
            return f"failed: {error.code}"
        case OnFailure.RETRY:
            return _retry(message, error, now, holder)
        case OnFailure.WAIT:
            return _wait(message, error, now, holder)
        case OnFailure.HOLD:
            return _hold(message, error, now, holder)
        case unhandled:  # a new OnFailure member without its handling: type checkers say so
            assert_never(unhandled)


def _look_up_first(message: Message, error: SmsError, now: datetime, holder: str) -> str:
    # It may have gone out: resending now could text someone twice. The store decides.
    if _end_attempt(
        message,
        holder,
        to=Status.UNCERTAIN,
        event=f"{error.reason}: checking RingCentral before any retry",
        event_code="AMBIGUOUS",
        attempts=F("attempts") + 1,
        uncertain_since=now,
    ):
        _attempt_outcome(message, "uncertain", "ambiguous", "AMBIGUOUS", error.reason)
        return message_reconcile(message_id=message.pk)
    return "taken over: the sweeper settles it"


def _retry(message: Message, error: SmsError, now: datetime, holder: str) -> str:
    attempts = message.attempts + 1
    if attempts >= settings.SMS_MAX_ATTEMPTS:
        _fail(
            message,
            Status.SENDING,
            error.code or "TRANSIENT",
            f"Not sent after {attempts} attempts: {error.reason}",
            count_attempt=True,
            holder=holder,
            reason_class=send_error_class(error),
        )
        return "failed: attempts exhausted"
    wait = backoff(attempts)
    if error.retry_after:
        wait = max(wait, timedelta(seconds=error.retry_after))
    if _requeue(
        message,
        holder,
        now + wait,
        f"Attempt {attempts} failed ({error.reason}); retrying in {wait.total_seconds():.0f} s",
        error.code,
        count_attempt=True,
    ):
        _attempt_outcome(message, "retry", send_error_class(error), error.code, error.reason)
    return f"retrying in {wait.total_seconds():.0f} s"


def _wait(message: Message, error: SmsError, now: datetime, holder: str) -> str:
    # Not processed by RingCentral: no attempt used. A little jitter spreads the restart. A
    # backend that did not say how long waits DEFAULT_RETRY_AFTER, RingCentral's advice for a
    # 429 without Retry-After (docs/ringcentral.md#rate-limits), defined once in auth_tokens.
    wait = timedelta(seconds=(error.retry_after or DEFAULT_RETRY_AFTER) + random.uniform(0, 2))
    if _requeue(
        message,
        holder,
        now + wait,
        f"Waiting {wait.total_seconds():.0f} s: {error.reason}",
        error.code,
        count_attempt=False,
    ):
        _attempt_outcome(message, "rate_limited", send_error_class(error), error.code, error.reason)
    return f"rate limited: retry in {wait.total_seconds():.0f} s"


def _hold(message: Message, error: SmsError, now: datetime, holder: str) -> str:
    """Wait for a person to fix what stops every send (the login, the settings), without using
    attempts, for at most SMS_AUTH_HOLD_SECONDS: a text that goes out hours late may do more
    harm than one that fails with a reason staff can act on ("Send again")."""
    held_since = message.held_since or now
    hold = timedelta(seconds=settings.SMS_AUTH_HOLD_SECONDS)
    if now - held_since >= hold:
        _fail(
            message,
            Status.SENDING,
            error.code,
            f"Waited {hold.total_seconds() / 60:.0f} min for {error.waiting_for}: {error.reason}",
            holder=holder,
            reason_class=send_error_class(error),
        )
        return f"failed: still waiting for {error.waiting_for} after the hold time"
    wait = timedelta(seconds=error.retry_after or HOLD_RECHECK_SECONDS)
    if _requeue(
        message,
        holder,
        now + wait,
        f"Waiting for {error.waiting_for}: {error.reason}",
        error.code,
        count_attempt=False,
        held_since=held_since,
    ):
        _attempt_outcome(message, "held", send_error_class(error), error.code, error.reason)
    return f"held: waiting for {error.waiting_for}, retry in {wait.total_seconds():.0f} s"


def _requeue(
    message: Message,
    holder: str,
    when: datetime,
    event: str,
    code: str,
    *,
    count_attempt: bool,
    **fields: object,
) -> bool:
    # dispatched_at=None hands it to the dispatcher, which queues it once `when` has come:
    # no long Celery ETA that Redis could redeliver twice.
    return _end_attempt(
        message,
        holder,
        to=Status.QUEUED,
        event=event,
        event_code=code,
        next_attempt_at=when,
        dispatched_at=None,
        attempts=F("attempts") + (1 if count_attempt else 0),
        error_code=code,
        error_reason=event,
        **fields,
    )


def _end_attempt(message: Message, holder: str, *, to: str, event: str, **fields: Any) -> bool:
    """Leave "sending" with the attempt's outcome, releasing its lease; a no-op when the
    attempt is no longer the message's (the sweeper took it over after the lease lapsed)."""
    return transition(
        message.pk,
        from_statuses=[Status.SENDING],
        to=to,
        event=event,
        only_if=Q(lease_holder=holder),
        lease_expires_at=None,
        **fields,
    )


def _fail(
    message: Message,
    from_status: str,
    code: str,
    reason: str,
    *,
    count_attempt: bool = False,
    holder: str | None = None,
    reason_class: str = "other",
) -> None:
    failed = transition(
        message.pk,
        from_statuses=[from_status],
        to=Status.FAILED,
        event=reason,
        event_code=code,
        only_if=Q(lease_holder=holder) if holder else None,
        attempts=F("attempts") + (1 if count_attempt else 0),
        error_code=code,
        error_reason=reason,
        held_since=None,
        next_attempt_at=None,
        lease_expires_at=None,
    )
    if failed:
        _attempt_outcome(message, "failed", reason_class, code, reason)
