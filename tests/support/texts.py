"""Texts in the states tests start from, reached through the services (and the simulator)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import redis
from django.utils import timezone

from smsapp import services
from smsapp.models import Message

Status = Message.Status
TEXT = "Your table is ready"


def create_texts(*numbers: str, text: str = TEXT, **kwargs) -> list[Message]:
    """One queued (or scheduled, with send_at) text per number; +16505550199 by default."""
    return services.message_create(
        to_numbers=list(numbers) or ["+16505550199"], text=text, **kwargs
    )


def create_text(number: str = "+16505550101", **kwargs) -> Message:
    [message] = services.message_create(to_numbers=[number], text=TEXT, **kwargs)
    return message


def send(message: Message) -> Message:
    """Run the send task's service for it now, and read the outcome back."""
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    return message


def sent(number: str = "+16505550102") -> Message:
    """Sent for real: accepted by the simulator."""
    message = send(create_text(number))
    assert message.status == Status.SENT, message.error_reason
    return message


def failed_at_sending(settings, number: str = "+16505550103") -> Message:
    """Failed for real: RingCentral refuses a sender number the extension does not own."""
    real_sender = settings.SMS_FROM_NUMBER
    settings.SMS_FROM_NUMBER = "+16505550123"
    message = send(create_text(number))
    settings.SMS_FROM_NUMBER = real_sender
    assert message.status == Status.FAILED, message.error_reason
    return message


def make_due(message: Message) -> None:
    """As if its retry time had come."""
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def check_delivery_now(message: Message) -> Message:
    """Run the status check now for this message (as if its next check were due)."""
    Message.objects.filter(pk=message.pk).update(next_status_check_at=timezone.now())
    services.messages_check_delivery()
    message.refresh_from_db()
    return message


def delivery_failed(simulator, number: str, code: str) -> Message:
    """Failed for real: the simulator reports `code` for the number, the status check reads it."""
    simulator.configure(failing_numbers={number: code})
    message = sent(number)
    simulator.advance_clock(10)  # past the simulator's delivery delay
    message = check_delivery_now(message)
    assert message.status == Status.FAILED, message.error_reason
    assert message.error_code == code
    return message


def age_uncertain_attempt(message: Message, settings) -> None:
    """As if the uncertain attempt was made longer ago than the settle time."""
    settle = timedelta(seconds=settings.SMS_UNCERTAIN_SETTLE_SECONDS + 1)
    Message.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now() - settle, uncertain_since=timezone.now() - settle
    )


def events(message: Message) -> list[str]:
    """The statuses of its timeline, oldest first."""
    return [e.status for e in message.events.all()]


def reconcile_after_settle(message: Message, settings) -> Message:
    """Age its uncertain attempt past the settle time, run the sweeper, read the outcome."""
    age_uncertain_attempt(message, settings)
    services.messages_reconcile_stuck()
    message.refresh_from_db()
    return message


# Zones at the ends of the offsets: the calendar's last and first days overflow in UTC there.
FAR_WEST = "Etc/GMT+12"  # UTC-12: 9999-12-31 there is already year 10000 in UTC
FAR_EAST = "Etc/GMT-14"  # UTC+14: 0001-01-01 there is still year 0 in UTC


def numbers(count: int, start: int = 0) -> list[str]:
    """Distinct valid US numbers (+1 650 555 xxxx, then 650 556 xxxx)."""
    return [f"+1650{555 + (start + i) // 10_000}{(start + i) % 10_000:04d}" for i in range(count)]


def scheduled_in(seconds_ahead: float) -> Message:
    """A text scheduled `seconds_ahead` from now."""
    [message] = services.message_create(
        to_numbers=["+16505550101"],
        text="On time",
        send_at=timezone.now() + timedelta(seconds=seconds_ahead),
    )
    return message


def queued_send_tasks(settings) -> list[dict]:
    """The send tasks waiting in the real broker (Redis list "celery"), with their ETA."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    tasks = []
    for raw in client.lrange("celery", 0, -1):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        tasks.append({"args": body[0], "eta": message["headers"].get("eta")})
    return tasks
