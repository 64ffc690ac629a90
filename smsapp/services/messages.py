"""Creating, canceling and retrying messages."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from smsapp import delivery_codes
from smsapp.delivery_codes import Outcome
from smsapp.models import Message, MessageEvent
from smsapp.phones import is_e164
from smsapp.services import optouts
from smsapp.services.enqueue import enqueue_on_commit
from smsapp.services.transitions import transition, transition_many
from smsapp.signals import messages_created
from smsapp.validation import (
    as_given,
    is_submission_key,
    validate_from_number,
    validate_send,
    validate_submission_key,
    validate_text,
)
from smsapp.validation import problem as validation_problem

# How a "Send again" event starts: the detail page finds the series boundaries by it (attempts
# restart at 0 for each series, which SMS_MAX_ATTEMPTS limits on its own).
RETRY_EVENT = "Retry requested"


@dataclass(frozen=True)
class Submission:
    """What one submission (a form sent, a send_sms run) created."""

    messages: list[Message]
    # True when an earlier submission with the same key created them: nothing new was.
    repeated: bool = False


def new_submission_key() -> str:
    """A fresh idempotency key: 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def message_create(
    *,
    to_numbers: Sequence[str],
    text: str,
    created_by: AbstractBaseUser | None = None,
    send_at: datetime | None = None,
    submission_key: str | None = None,
) -> list[Message]:
    """One message per recipient, all or none. Sent now, or at `send_at` when in the future
    (see validation.validate_send_at for the rule). With a `submission_key`, see message_submit."""
    return message_submit(
        to_numbers=to_numbers,
        text=text,
        created_by=created_by,
        send_at=send_at,
        submission_key=submission_key,
    ).messages


def message_submit(
    *,
    to_numbers: Sequence[str],
    text: str,
    created_by: AbstractBaseUser | None = None,
    send_at: datetime | None = None,
    submission_key: str | None = None,
) -> Submission:
    """message_create, once per `submission_key`: the same submission made again (a double
    click, a retried POST, a script run again after a timeout) creates nothing and returns
    what the first one created, `repeated`. The database enforces it (a unique constraint on
    the key and the recipient), so two at the same moment create one set too. The key used
    again for another send (other recipients, text, time or sender) is a ValidationError on
    "submission_key": answering with the first send's result would hide that this one was not
    sent.

    Nothing is created when any recipient opted out of SMS_FROM_NUMBER (services.optouts): a
    ValidationError on "to" names them all. After the texts are created (inside the
    transaction) it sends smsapp.signals.messages_created."""
    numbers = list(dict.fromkeys(to_numbers))  # one text per recipient, however often named
    if submission_key is not None:
        try:
            validate_submission_key(submission_key)
        except ValidationError as error:
            raise ValidationError({"submission_key": error.error_list}) from None
    digest = _submission_digest(numbers, text, created_by, send_at) if submission_key else ""
    if submission_key and (earlier := _submitted(submission_key, digest)):
        return earlier
    from_number = settings.SMS_FROM_NUMBER
    now = timezone.now()
    _validate(numbers, text, from_number, send_at, now)
    scheduled = send_at is not None and send_at > now
    who = f" by {created_by}" if created_by else ""
    event = f"Scheduled{who} for {as_given(send_at)}" if scheduled else f"Queued{who}"
    try:
        with transaction.atomic():
            messages = _create_texts(
                [(number, text) for number in numbers],
                from_number=from_number,
                created_by=created_by,
                event=event,
                now=now,
                send_at=send_at if scheduled else None,
                submission_key=submission_key or "",
                submission_digest=digest,
            )
            # Inside the transaction: receivers' rows commit with the texts (smsapp/signals.py).
            messages_created.send(sender=Message, messages=messages)
            if not scheduled:
                enqueue_on_commit([m.pk for m in messages])
    except IntegrityError:
        # The same key committed first, between the look above and this insert (which waited
        # for it on the unique index): nothing of this one was kept, and its tasks, queued
        # on commit, were dropped with it.
        if submission_key and (earlier := _submitted(submission_key, digest)):
            return earlier
        raise
    return Submission(messages)


def messages_create_each(
    *,
    texts: Sequence[tuple[str, str]],
    created_by: AbstractBaseUser | None = None,
    event: str,
) -> tuple[list[Message], list[str]]:
    """One queued text per (number, words) pair, each with its own words: how a bulk send
    feeds the pipeline, a chunk at a time. The rules of message_submit but the recipient cap
    (a bulk send has its own, SMS_MAX_BULK_RECIPIENTS, checked at upload). A number that opted
    out since is not texted: returns (the texts created, the numbers left out for that)."""
    from_number = settings.SMS_FROM_NUMBER
    errors = [
        problem
        for number, text in texts
        for problem in (
            None if is_e164(number) else f"{number!r} is not an E.164 number",
            validation_problem(validate_text, text),
        )
        if problem
    ]
    if from_problem := validation_problem(validate_from_number, from_number):
        errors.append(from_problem)
    if errors:
        raise ValidationError(errors[:5])
    refused = set(optouts.opted_out_numbers(our_number=from_number, numbers=[n for n, _ in texts]))
    now = timezone.now()
    with transaction.atomic():
        messages = _create_texts(
            [(number, text) for number, text in texts if number not in refused],
            from_number=from_number,
            created_by=created_by,
            event=event,
            now=now,
        )
        if messages:
            messages_created.send(sender=Message, messages=messages)
            enqueue_on_commit([m.pk for m in messages])
    return messages, sorted(refused)


def messages_cancel_unsent(*, message_ids: Sequence[int], event: str) -> list[int]:
    """Cancel those of these texts that have not started going out: scheduled ones and queued
    ones no worker has claimed (the claim, queued -> sending, and this move are both
    conditional on "queued": exactly one of them wins). Returns the ids canceled."""
    return transition_many(
        message_ids,
        from_statuses=[Message.Status.SCHEDULED, Message.Status.QUEUED],
        to=Message.Status.CANCELED,
        event=event,
        next_attempt_at=None,
    )


def _create_texts(
    texts: Sequence[tuple[str, str]],
    *,
    from_number: str,
    created_by: AbstractBaseUser | None,
    event: str,
    now: datetime,
    send_at: datetime | None = None,
    **fields: str,
) -> list[Message]:
    """The rows and their first events: scheduled at `send_at`, else queued now (and already
    dispatched: the caller enqueues them on commit)."""
    status = Message.Status.SCHEDULED if send_at else Message.Status.QUEUED
    messages = Message.objects.bulk_create(
        [
            Message(
                to_number=number,
                from_number=from_number,
                text=text,
                created_by=created_by,
                status=status,
                send_at=send_at,
                next_attempt_at=None if send_at else now,
                dispatched_at=None if send_at else now,
                **fields,
            )
            for number, text in texts
        ]
    )
    MessageEvent.objects.bulk_create(
        [MessageEvent(message=m, status=status, description=event) for m in messages]
    )
    return messages


def _submission_digest(
    numbers: Sequence[str],
    text: str,
    created_by: AbstractBaseUser | None,
    send_at: datetime | None,
) -> str:
    """What a submission asked for, as a hash to compare a repeat with. The time as an
    instant: the same form sent again is read in the same zone anyway."""
    asked = {
        "to": sorted(numbers),
        "text": text,
        "by": created_by.pk if created_by else None,
        "at": send_at.astimezone(UTC).isoformat() if send_at else None,
    }
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


def _submitted(key: str, digest: str) -> Submission | None:
    """What the submission with `key` created, if any: a ValidationError if it asked for
    something else than `digest`."""
    earlier = list(Message.objects.filter(submission_key=key).order_by("id"))
    if not earlier:
        return None
    if any(m.submission_digest != digest for m in earlier):
        count = len(earlier)
        raise ValidationError(
            {
                "submission_key": [
                    f"This form was already used to send {count} "
                    f"{'text' if count == 1 else 'texts'} (#{earlier[0].pk}"
                    f"{' and more' if count > 1 else ''}) with other recipients, text or time, "
                    "so nothing was sent now. The form below is a new one: check it and press "
                    "Send to send it."
                ]
            }
        )
    return Submission(earlier, repeated=True)


def message_cancel(*, message: Message, by: AbstractBaseUser | None = None) -> bool:
    """A scheduled message can be canceled until the dispatcher has claimed it. Any sender may
    cancel any text (a shared team inbox), so the timeline names who did.

    Idempotent without a key: True when the text is canceled, by this call or an earlier one
    (a repeated POST, a colleague), so a repeat shows the first's result and adds no second
    event. A canceled text stays canceled, so a repeat can never do anything else."""
    canceled = transition(
        message.pk,
        from_statuses=Message.CANCELABLE,
        to=Message.Status.CANCELED,
        event=f"Canceled before it was sent{f' by {by}' if by else ''}",
    )
    return (
        canceled or Message.objects.filter(pk=message.pk, status=Message.Status.CANCELED).exists()
    )


def message_retry(
    *, message: Message, by: AbstractBaseUser | None = None, key: str | None = None
) -> bool:
    """Send a failed message again, as a new attempt series; never one that failed in a way a
    resend cannot fix (resend_refusal).

    `key`: the action's idempotency key (a hidden field of the "Send again" form, from
    {% action_key_input %} in smsapp_forms). Once a retry with it happened, the same key
    again returns True and does nothing, even if the text has failed again since: a POST the
    browser repeats must not send the text a third time. Without a key (or with one that is
    not a key) a failed text is retried whenever asked."""
    now = timezone.now()
    key = key if is_submission_key(key) else None
    if key and _action_done(message.pk, key):
        return True
    if resend_refusal(message):
        return False
    event = f"{RETRY_EVENT}{f' by {by}' if by else ''}"
    try:
        with transaction.atomic():
            retried = _retry_transition(message, event, now)
            if retried and key:
                # transition() added the newest event with this text under the row lock its
                # UPDATE holds to commit. The unique constraint refuses a second event with
                # this key: a concurrent repeat that got here too rolls back entirely.
                MessageEvent.objects.filter(
                    pk=MessageEvent.objects.filter(
                        message_id=message.pk, description=event, action_key=""
                    )
                    .order_by("-id")
                    .values("pk")[:1]
                ).update(action_key=key)
            if retried:
                enqueue_on_commit([message.pk])
    except IntegrityError:
        return True  # the same action, repeated at the same moment, retried it
    # Not failed (any more): the same action may have retried it a moment ago.
    return retried or bool(key and _action_done(message.pk, key))


def _action_done(message_id: int, key: str) -> bool:
    return MessageEvent.objects.filter(message_id=message_id, action_key=key).exists()


def _retry_transition(message: Message, event: str, now: datetime) -> bool:
    return transition(
        message.pk,
        from_statuses=Message.RETRYABLE,
        to=Message.Status.QUEUED,
        event=event,
        # Decided on the row as it is now, not as `message` was read.
        only_if=~_permanent_failure(),
        attempts=0,
        next_attempt_at=now,
        dispatched_at=now,
        held_since=None,
        provider_message_id="",
        error_code="",
        error_reason="",
    )


def resend_refusal(message: Message) -> str | None:
    """Why a failed `message` must not be sent again, or None.

    Refused: the delivery codes the table calls permanent (delivery_codes.Outcome: "sending
    this text to this recipient again will fail the same way"): an opt-out (*-413), an invalid
    or unreachable number. Sending to someone who replied STOP is what the opt-out forbids.
    Allowed: every other failure, unknown codes included (their reason says a resend may work).
    """
    code = message.error_code
    if not message.can_retry:
        return None
    if optout := optouts.optout_for(our_number=message.from_number, their_number=message.to_number):
        return (
            f"{message.to_number} has opted out of texts from {optout.our_number} "
            f"({optouts.optout_cause(optout)}). What undoes it: {optouts.UNDO}."
        )
    if not _is_permanent(code):
        return None
    entry = delivery_codes.lookup(code)
    return (
        f"RingCentral reported {code}: {entry.meaning}. Sending it again would fail the same way."
    )


# The table's permanent codes; codes it lacks are permanent only as opt-outs (every *-413 means
# one, see delivery_codes.lookup): the reason shown for other unknown codes says a resend may
# work.
_PERMANENT_CODES = frozenset(
    code for code, entry in delivery_codes.CODES.items() if entry.outcome is Outcome.PERMANENT
)


def _is_permanent(code: str) -> bool:
    return code in _PERMANENT_CODES or (code.startswith("SMS-") and code.endswith("-413"))


def _permanent_failure() -> Q:
    """_is_permanent as a condition on the row."""
    return Q(error_code__in=_PERMANENT_CODES) | Q(
        error_code__startswith="SMS-", error_code__endswith="-413"
    )


def _validate(
    to_numbers: Sequence[str],
    text: str,
    from_number: str,
    send_at: datetime | None,
    now: datetime,
) -> None:
    """The service is the final authority: whoever calls it (the form, send_sms, a script, the
    shell), the same rules, in the same words (smsapp.validation), and no text to anyone who
    opted out (services.optouts, a database question, so asked here rather than there)."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        validate_send(
            to_numbers=to_numbers, text=text, send_at=send_at, from_number=from_number, now=now
        )
    except ValidationError as error:
        errors = error.error_dict
    if "to" not in errors:  # valid E.164 numbers: worth a query
        try:
            optouts.validate_not_opted_out(our_number=from_number, numbers=to_numbers)
        except ValidationError as error:
            errors["to"] = error.error_list
    if errors:
        raise ValidationError(errors)
