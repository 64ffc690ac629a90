"""Creating, canceling and retrying messages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from smsapp.models import Message, MessageEvent
from smsapp.segments import MAX_TEXT_UNITS, utf16_units
from smsapp.services.timeline import enqueue_on_commit, transition

E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def message_create(
    *,
    to_numbers: Sequence[str],
    text: str,
    created_by: AbstractBaseUser | None = None,
    send_at: datetime | None = None,
) -> list[Message]:
    """One message per recipient, all or none. Sent now, or at `send_at` when in the future."""
    from_number = settings.SMS_FROM_NUMBER
    _validate(to_numbers, text, from_number)
    now = timezone.now()
    scheduled = send_at is not None and send_at > now
    status = Message.Status.SCHEDULED if scheduled else Message.Status.QUEUED
    who = f" by {created_by}" if created_by else ""
    event = f"Scheduled{who} for {send_at:%Y-%m-%d %H:%M %Z}" if scheduled else f"Queued{who}"
    with transaction.atomic():
        messages = Message.objects.bulk_create(
            [
                Message(
                    to_number=number,
                    from_number=from_number,
                    text=text,
                    created_by=created_by,
                    status=status,
                    send_at=send_at if scheduled else None,
                    next_attempt_at=None if scheduled else now,
                    dispatched_at=None if scheduled else now,
                )
                for number in to_numbers
            ]
        )
        MessageEvent.objects.bulk_create(
            [MessageEvent(message=m, status=status, description=event) for m in messages]
        )
        if not scheduled:
            enqueue_on_commit([m.pk for m in messages])
    return messages


def message_cancel(*, message: Message) -> bool:
    """A scheduled message can be canceled until the dispatcher has claimed it."""
    return transition(
        message.pk,
        from_statuses=[Message.Status.SCHEDULED],
        to=Message.Status.CANCELED,
        event="Canceled before it was sent",
    )


def message_retry(*, message: Message, by: AbstractBaseUser | None = None) -> bool:
    """Send a failed message again, as a new attempt series."""
    now = timezone.now()
    with transaction.atomic():
        retried = transition(
            message.pk,
            from_statuses=[Message.Status.FAILED],
            to=Message.Status.QUEUED,
            event=f"Retry requested{f' by {by}' if by else ''}",
            attempts=0,
            next_attempt_at=now,
            dispatched_at=now,
            held_since=None,
            provider_message_id="",
            error_code="",
            error_reason="",
        )
        if retried:
            enqueue_on_commit([message.pk])
    return retried


def _validate(to_numbers: Sequence[str], text: str, from_number: str) -> None:
    errors: dict[str, list[str]] = {}
    if not to_numbers:
        errors["to"] = ["Give at least one recipient."]
    bad = [n for n in to_numbers if not E164.match(n)]
    if bad:
        errors["to"] = [f"Not an E.164 number (like +16505550123): {', '.join(bad)}"]
    if not text or not text.strip():
        errors["text"] = ["The text is empty."]
    elif utf16_units(text) > MAX_TEXT_UNITS:
        errors["text"] = [f"At most {MAX_TEXT_UNITS} characters (emoji count as two)."]
    if not E164.match(from_number or ""):
        errors["__all__"] = [
            "SMS_FROM_NUMBER is not set to an E.164 number: an admin must configure it."
        ]
    if errors:
        raise ValidationError(errors)
