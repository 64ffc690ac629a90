"""Delivery status: follow sent messages in RingCentral's message store until they settle."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from smsapp import reasons
from smsapp.backends import get_backend
from smsapp.backends.base import RateLimitedSmsError, SmsError
from smsapp.models import Message, MessageEvent
from smsapp.services.timeline import transition

Status = Message.Status
GIVE_UP_AFTER = timedelta(days=1)
MAX_CHECK_INTERVAL = timedelta(minutes=30)
# Message-store reads are in the Light group (50 a minute, shared with everything else).
BATCH = 20


def messages_check_delivery() -> int:
    """Look up due "sent" messages; returns how many were looked at."""
    now = timezone.now()
    due = list(
        Message.objects.filter(status=Status.SENT, next_status_check_at__lte=now).order_by(
            "next_status_check_at"
        )[:BATCH]
    )
    backend = get_backend()
    for checked, message in enumerate(due):
        if message.sent_at and now - message.sent_at > GIVE_UP_AFTER:
            _stop_checking(message, "No delivery report after a day; it may still have arrived")
            continue
        try:
            delivery = backend.delivery(message.provider_message_id)
        except RateLimitedSmsError:
            return checked  # the rest waits for the next run
        except SmsError:
            _check_again(message)
            continue
        if delivery.state == "delivered":
            transition(
                message.pk,
                from_statuses=[Status.SENT],
                to=Status.DELIVERED,
                event="Delivered",
                delivered_at=timezone.now(),
                next_status_check_at=None,
            )
        elif delivery.state == "failed":
            reason = reasons.delivery_error_reason(delivery.error_code)
            transition(
                message.pk,
                from_statuses=[Status.SENT],
                to=Status.FAILED,
                event=reason,
                event_code=delivery.error_code,
                error_code=delivery.error_code,
                error_reason=reason,
                next_status_check_at=None,
            )
        elif delivery.state == "unknown":
            _stop_checking(message, reasons.NO_STATUS)
        else:
            _check_again(message)
    return len(due)


def _check_again(message: Message) -> None:
    # 10 s, 20 s, 40 s, ... up to 30 min: most texts settle in seconds, some take hours.
    delay = min(MAX_CHECK_INTERVAL, timedelta(seconds=10 * 2**message.status_checks))
    Message.objects.filter(pk=message.pk, status=Status.SENT).update(
        status_checks=F("status_checks") + 1, next_status_check_at=timezone.now() + delay
    )


def _stop_checking(message: Message, description: str) -> None:
    updated = Message.objects.filter(pk=message.pk, status=Status.SENT).update(
        next_status_check_at=None
    )
    if updated:
        MessageEvent.objects.create(message=message, status=Status.SENT, description=description)
