"""Creating, canceling and retrying messages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from smsapp.models import Message, MessageEvent
from smsapp.segments import MAX_TEXT_UNITS, utf16_units
from smsapp.services.timeline import enqueue_on_commit, transition

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
# A send time up to this long ago means "now". The form's times have minute precision (the
# current minute, picked at its 59th second and submitted a few seconds later, is already a
# minute old) and a person may spend a while on the confirmation step. Anything older is a
# mistake (a wrong day or year), and sending it at once would surprise.
SEND_AT_GRACE = timedelta(minutes=2)


def message_create(
    *,
    to_numbers: Sequence[str],
    text: str,
    created_by: AbstractBaseUser | None = None,
    send_at: datetime | None = None,
) -> list[Message]:
    """One message per recipient, all or none. Sent now, or at `send_at` when in the future
    (see send_at_error for the rule)."""
    from_number = settings.SMS_FROM_NUMBER
    now = timezone.now()
    _validate(to_numbers, text, from_number, send_at, now)
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


def message_cancel(*, message: Message, by: AbstractBaseUser | None = None) -> bool:
    """A scheduled message can be canceled until the dispatcher has claimed it. Any sender may
    cancel any text (a shared team inbox), so the timeline names who did."""
    return transition(
        message.pk,
        from_statuses=[Message.Status.SCHEDULED],
        to=Message.Status.CANCELED,
        event=f"Canceled before it was sent{f' by {by}' if by else ''}",
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


def recipients_limit_error(count: int) -> str | None:
    """Why `count` recipients are too many for one send, or None. A slip of the paste must not
    queue hours of RingCentral's rate limit in one click."""
    limit = settings.SMS_MAX_RECIPIENTS
    if count <= limit:
        return None
    return (
        f"That is {count} recipients; one send goes to at most {limit} "
        "(SMS_MAX_RECIPIENTS). Split the list into several sends."
    )


def send_at_error(send_at: datetime, *, now: datetime | None = None) -> str | None:
    """Why `send_at` cannot be used, stating the whole rule; None if it can.

    The one rule for the form, send_sms and message_create: any time from two minutes ago
    (SEND_AT_GRACE: sent at once) up to SMS_MAX_SCHEDULE_DAYS ahead (scheduled to the second).
    Times in errors are shown in the current zone (the browser's on the web, UTC in a command).
    """
    now = now or timezone.now()
    days = settings.SMS_MAX_SCHEDULE_DAYS
    try:
        latest: datetime | None = now + timedelta(days=days)
    except OverflowError:  # a limit past the year 9999: no time Python can hold exceeds it
        latest = None
    until = f" (until {_shown(latest)})" if latest else ""
    rule = f"pick a time from now up to {days} days ahead{until}, or leave it empty to send now"
    try:
        instant = send_at.astimezone(UTC)
    except OverflowError:
        # 9999-12-31 west of UTC is already the year 10000 in UTC (0001-01-01 east of it is
        # still the year 0): past the ends of what a datetime can hold, so certainly out of range.
        if send_at.year > now.year:
            return f"{_as_given(send_at)} is more than {days} days ahead: {rule}."
        return f"{_as_given(send_at)} is in the past: {rule}."
    if instant < now - SEND_AT_GRACE:
        return f"{_as_given(send_at)} is in the past (it is now {_shown(now)}): {rule}."
    if latest is not None and instant > latest:
        return f"{_as_given(send_at)} is more than {days} days ahead: {rule}."
    return None


def _shown(when: datetime) -> str:
    """A time in the current zone, with the zone's name, to the minute."""
    return f"{timezone.localtime(when):%Y-%m-%d %H:%M} {timezone.get_current_timezone_name()}"


def _as_given(when: datetime) -> str:
    """A time in its own zone, as the person gave it: the zone's name (from the tz cookie) or
    the UTC offset they typed."""
    zone = getattr(when.tzinfo, "key", None) or when.tzname() or "UTC"
    return f"{when:%Y-%m-%d %H:%M} {zone}"


def _validate(
    to_numbers: Sequence[str],
    text: str,
    from_number: str,
    send_at: datetime | None,
    now: datetime,
) -> None:
    errors: dict[str, list[str]] = {}
    if not to_numbers:
        errors["to"] = ["Give at least one recipient."]
    elif too_many := recipients_limit_error(len(to_numbers)):
        errors["to"] = [too_many]
    elif bad := [n for n in to_numbers if not E164.match(n)]:
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        errors["to"] = [f"Not an E.164 number (like +16505550123): {', '.join(bad[:5])}{more}"]
    if not text or not text.strip():
        errors["text"] = ["The text is empty."]
    elif utf16_units(text) > MAX_TEXT_UNITS:
        errors["text"] = [f"At most {MAX_TEXT_UNITS} characters (emoji count as two)."]
    if send_at is not None and (problem := send_at_error(send_at, now=now)):
        errors["send_at"] = [problem]
    if not E164.match(from_number or ""):
        errors["__all__"] = [
            "SMS_FROM_NUMBER is not set to an E.164 number: an admin must configure it."
        ]
    if errors:
        raise ValidationError(errors)
