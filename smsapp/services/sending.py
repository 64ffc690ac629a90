"""Sending one message: claim it, call the backend outside any transaction, record the outcome."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from smsapp.backends import get_backend
from smsapp.backends.base import (
    AmbiguousSmsError,
    AuthWaitSmsError,
    OutgoingSms,
    PermanentSmsError,
    RateLimitedSmsError,
    SmsError,
    TransientSmsError,
)
from smsapp.models import Message
from smsapp.services.timeline import enqueue_on_commit, transition

Status = Message.Status
# First delivery-status look after RingCentral accepted a text.
FIRST_STATUS_CHECK = timedelta(seconds=10)
# An uncertain outcome that cannot be checked for this long becomes a failure a person sees.
UNCERTAIN_GIVE_UP = timedelta(days=1)


def stale_sending_after() -> timedelta:
    """A message in "sending" longer than this was abandoned (SMS_STALE_SENDING_SECONDS):
    reconciling any earlier could resend a text still in flight."""
    return timedelta(seconds=settings.SMS_STALE_SENDING_SECONDS)


def uncertain_settle() -> timedelta:
    """How old an uncertain attempt must be before its absence from the store is believed."""
    return timedelta(seconds=settings.SMS_UNCERTAIN_SETTLE_SECONDS)


def backoff(attempt: int) -> timedelta:
    """Exponential, capped, with jitter so a burst of failures does not retry in lockstep."""
    ceiling = min(settings.SMS_RETRY_MAX_SECONDS, settings.SMS_RETRY_BASE_SECONDS * 2**attempt)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def message_send(*, message_id: int) -> str:
    """The send task's body. Returns what happened, in words, for the worker log."""
    now = timezone.now()
    claimed = transition(
        message_id,
        from_statuses=[Status.QUEUED],
        to=Status.SENDING,
        event="Sending",
        only_if=Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        claimed_at=now,
    )
    if not claimed:
        # A redelivered task (worker killed, or visibility timeout) or a duplicate dispatch:
        # the message is someone else's, done, or not due. Only an abandoned send is ours.
        current = Message.objects.filter(pk=message_id).values_list("status", flat=True).first()
        if current in (Status.SENDING, Status.UNCERTAIN):
            return message_reconcile(message_id=message_id)
        return f"skipped: message is {current or 'gone'}"
    message = Message.objects.get(pk=message_id)
    sms = OutgoingSms(message.from_number, message.to_number, message.text)
    try:
        provider_id = get_backend().send(sms)
    except SmsError as error:
        return _record_failure(message, error)
    _record_sent(message, provider_id, "Accepted by RingCentral", from_status=Status.SENDING)
    return f"sent as {provider_id}"


def message_reconcile(*, message_id: int) -> str:
    """Decide an uncertain or abandoned attempt from RingCentral's message store: sent if the
    text is there, sent again only if it certainly is not."""
    message = Message.objects.filter(pk=message_id).first()
    now = timezone.now()
    if message is None:
        return "skipped: gone"
    if message.status == Status.SENDING:
        cutoff = now - stale_sending_after()
        if not transition(
            message_id,
            from_statuses=[Status.SENDING],
            to=Status.UNCERTAIN,
            event="The send was interrupted (worker stopped?): checking RingCentral",
            only_if=Q(claimed_at__lte=cutoff),
        ):
            return "skipped: still sending"
    elif message.status != Status.UNCERTAIN:
        return f"skipped: message is {message.status}"
    since = message.claimed_at or message.created_at
    sms = OutgoingSms(message.from_number, message.to_number, message.text)
    try:
        candidates = get_backend().find_sent(sms, since)
    except SmsError as error:
        if now - since > UNCERTAIN_GIVE_UP:
            _fail(
                message,
                Status.UNCERTAIN,
                "UNCONFIRMED",
                f"Could not confirm with RingCentral whether it was sent: {error.reason}",
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
            from_status=Status.UNCERTAIN,
        )
        return f"reconciled: sent as {found[0]}"
    if now - since < uncertain_settle():
        # Absent right after the attempt is not yet proof: an accepted text may take a moment
        # to show in the store. The sweeper asks again once the attempt is old enough.
        return "still uncertain: not in the message store yet"
    if message.attempts >= settings.SMS_MAX_ATTEMPTS:
        _fail(
            message, Status.UNCERTAIN, "MAX_ATTEMPTS", f"Not sent after {message.attempts} attempts"
        )
        return "failed: attempts exhausted"
    if transition(
        message_id,
        from_statuses=[Status.UNCERTAIN],
        to=Status.QUEUED,
        event="Not in RingCentral's message store: sending again",
        next_attempt_at=now,
        dispatched_at=now,
    ):
        enqueue_on_commit([message_id])
    return "reconciled: not sent, queued again"


# -- outcomes -----------------------------------------------------------------------------


def _record_sent(message: Message, provider_id: str, event: str, *, from_status: str) -> None:
    now = timezone.now()
    transition(
        message.pk,
        from_statuses=[from_status],
        to=Status.SENT,
        event=f"{event} (id {provider_id})",
        provider_message_id=provider_id,
        sent_at=now,
        attempts=F("attempts") + (1 if from_status == Status.SENDING else 0),
        next_status_check_at=now + FIRST_STATUS_CHECK,
        held_since=None,
        error_code="",
        error_reason="",
    )


def _record_failure(message: Message, error: SmsError) -> str:
    now = timezone.now()
    if isinstance(error, AmbiguousSmsError):
        transition(
            message.pk,
            from_statuses=[Status.SENDING],
            to=Status.UNCERTAIN,
            event=f"{error.reason}: checking RingCentral before any retry",
            event_code="AMBIGUOUS",
            attempts=F("attempts") + 1,
        )
        return message_reconcile(message_id=message.pk)
    if isinstance(error, PermanentSmsError):
        _fail(message, Status.SENDING, error.code, error.reason, count_attempt=True)
        return f"failed: {error.code}"
    if isinstance(error, AuthWaitSmsError):
        return _hold_for_auth(message, error, now)
    if isinstance(error, RateLimitedSmsError):
        # Not processed by RingCentral: no attempt used. A little jitter spreads the restart.
        wait = timedelta(seconds=(error.retry_after or 30) + random.uniform(0, 2))
        _requeue(
            message,
            now + wait,
            f"Waiting {wait.total_seconds():.0f} s: {error.reason}",
            error.code,
            count_attempt=False,
        )
        return f"rate limited: retry in {wait.total_seconds():.0f} s"
    assert isinstance(error, TransientSmsError)
    attempts = message.attempts + 1
    if attempts >= settings.SMS_MAX_ATTEMPTS:
        _fail(
            message,
            Status.SENDING,
            error.code or "TRANSIENT",
            f"Not sent after {attempts} attempts: {error.reason}",
            count_attempt=True,
        )
        return "failed: attempts exhausted"
    wait = backoff(attempts)
    if error.retry_after:
        wait = max(wait, timedelta(seconds=error.retry_after))
    _requeue(
        message,
        now + wait,
        f"Attempt {attempts} failed ({error.reason}); retrying in {wait.total_seconds():.0f} s",
        error.code,
        count_attempt=True,
    )
    return f"retrying in {wait.total_seconds():.0f} s"


def _hold_for_auth(message: Message, error: AuthWaitSmsError, now: datetime) -> str:
    held_since = message.held_since or now
    hold = timedelta(seconds=settings.SMS_AUTH_HOLD_SECONDS)
    if now - held_since >= hold:
        _fail(
            message,
            Status.SENDING,
            error.code or "AUTH",
            f"Waited {hold.total_seconds() / 60:.0f} min for a working RingCentral login: "
            f"{error.reason}",
        )
        return "failed: RingCentral login problem outlasted the hold time"
    wait = timedelta(seconds=error.retry_after or 60)
    _requeue(
        message,
        now + wait,
        f"Waiting for RingCentral login: {error.reason}",
        error.code,
        count_attempt=False,
        held_since=held_since,
    )
    return f"held for auth: retry in {wait.total_seconds():.0f} s"


def _requeue(
    message: Message,
    when: datetime,
    event: str,
    code: str,
    *,
    count_attempt: bool,
    **fields: object,
) -> None:
    # dispatched_at=None hands it to the dispatcher, which queues it once `when` has come:
    # no long Celery ETA that Redis could redeliver twice.
    transition(
        message.pk,
        from_statuses=[Status.SENDING],
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


def _fail(
    message: Message, from_status: str, code: str, reason: str, *, count_attempt: bool = False
) -> None:
    transition(
        message.pk,
        from_statuses=[from_status],
        to=Status.FAILED,
        event=reason,
        event_code=code,
        attempts=F("attempts") + (1 if count_attempt else 0),
        error_code=code,
        error_reason=reason,
        held_since=None,
        next_attempt_at=None,
    )
