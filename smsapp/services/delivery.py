"""Delivery status: follow sent messages in RingCentral's message store until they settle.

Every "sent" text ends in one of three ways, at the latest NO_RECEIPT_AFTER after it was sent
(plus one poll interval):
- delivered;
- failed, with the carrier's code and the reason from smsapp/delivery_codes.py (classes P, R,
  A, C);
- "sent, no delivery receipt": the status stays SENT (the models have no status for it and are
  not ours to change), checks stop (`next_status_check_at` None), `error_code` is the last
  "look again later" code or delivery_codes.NO_RECEIPT_CODE, `error_reason` says it in words,
  and an event records it. A SENT text carries an error code in this case only (sending
  clears it).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from metrics import definitions as metrics
from metrics.reason_classes import delivery_class
from smsapp import delivery_codes
from smsapp.backends import get_backend
from smsapp.backends.base import Delivery, RateLimitedSmsError, SmsError
from smsapp.backends.ringcentral import delivery_from_record
from smsapp.delivery_codes import DeliveryCode, Outcome
from smsapp.models import Message, OptOut
from smsapp.services import optouts
from smsapp.services.transitions import transition, transition_many

logger = logging.getLogger(__name__)
Status = Message.Status
# A receipt, when the carrier sends one at all, comes within minutes; RingCentral's record may
# stay Sent for good (smsDeliveryTime is set only on a receipt: docs/ringcentral.md#message-status).
# A day covers slow carriers and a phone switched off overnight, and bounds the polling.
NO_RECEIPT_AFTER = timedelta(days=1)
MAX_CHECK_INTERVAL = timedelta(minutes=30)


def messages_check_delivery() -> int:
    """Look up due "sent" messages, at most as many as the backend's read budget allows in
    one run (for RingCentral, its share of the Light group); returns how many were looked at."""
    now = timezone.now()
    backend = get_backend()
    due = list(
        Message.objects.filter(status=Status.SENT, next_status_check_at__lte=now).order_by(
            "next_status_check_at"
        )[: backend.delivery_reads_per_run]
    )
    for checked, message in enumerate(due):
        deadline = _deadline(message)
        # One last read even when the deadline has passed: a receipt may have come meanwhile.
        try:
            delivery = backend.delivery(message.provider_message_id)
        except RateLimitedSmsError:
            return checked  # the rest waits for the next run
        except SmsError:
            if now >= deadline:
                _no_receipt(message)  # unreadable for a day: stop rather than poll for ever
            else:
                _check_again(message, deadline)
            continue
        _follow(message, delivery, now=now, deadline=deadline)
    return len(due)


def messages_apply_store_records(records: Sequence[dict[str, Any]]) -> int:
    """Apply message-store records someone else read (the conversations app's message sync:
    outbound records shaped like GET message-store/{id}) to our texts still "sent", exactly as
    the status check would (the same reading, delivery_from_record, and the same outcomes).
    Records of other texts, and of texts not sent or already settled, are ignored; so are
    records still Queued/Sent, which change nothing the status check's own schedule does not
    cover. One query finds the texts, one transition per outcome moves them. Returns how many
    texts changed (an event each)."""
    by_id = {str(r["id"]): r for r in records if isinstance(r, dict) and r.get("id") is not None}
    if not by_id:
        return 0
    messages = list(Message.objects.filter(status=Status.SENT, provider_message_id__in=list(by_id)))
    now = timezone.now()
    delivered: list[Message] = []
    failed: defaultdict[str, list[Message]] = defaultdict(list)
    changed = 0
    for message in messages:
        delivery = delivery_from_record(by_id[message.provider_message_id])
        if delivery.state == "delivered":
            delivered.append(message)
        elif delivery.state == "failed":
            entry = delivery_codes.lookup(delivery.error_code)
            if entry.outcome is Outcome.LOOK_AGAIN:
                # Rare: one at a time, on its schedule; a text whose checks already ended
                # ("sent, no delivery receipt") is not looked at again for it.
                if message.next_status_check_at is not None:
                    changed += _look_again(message, entry, now=now, deadline=_deadline(message))
            else:
                failed[entry.code].append(message)
    changed += len(_deliver(delivered))
    for code, group in failed.items():
        changed += len(_fail(group, delivery_codes.lookup(code)))
    return changed


def _follow(message: Message, delivery: Delivery, *, now: datetime, deadline: datetime) -> bool:
    if delivery.state == "delivered":
        return bool(_deliver([message]))
    if delivery.state == "failed":
        entry = delivery_codes.lookup(delivery.error_code)
        if entry.outcome is Outcome.LOOK_AGAIN:
            return _look_again(message, entry, now=now, deadline=deadline)
        return bool(_fail([message], entry))
    if delivery.state == "unknown":  # the provider says it will never know
        return _no_receipt(message, delivery.error_code)
    if now >= deadline:
        return _no_receipt(message)
    _check_again(message, deadline)
    return False


def _deliver(messages: list[Message]) -> list[int]:
    now = timezone.now()
    delivered = transition_many(
        [m.pk for m in messages],
        from_statuses=[Status.SENT],
        to=Status.DELIVERED,
        event="Delivered",
        delivered_at=now,
        next_status_check_at=None,
    )
    for message in messages:
        if message.pk in delivered:
            accepted = message.sent_at or message.created_at
            metrics.text_delivered((now - accepted).total_seconds())
    return delivered


def _fail(messages: list[Message], entry: DeliveryCode) -> list[int]:
    # No automatic resend, for R (retry later) and A (operator action) alike: a resend is a new
    # text, and the promise is that each text goes out once unless a person asks again.
    # R failures (SMS-CAR-410/431/500, SMS-UP-500) are reported by the carrier after the fact:
    # a carrier's failure report is not proof the phone got nothing, and an automatic resend
    # could text someone twice, hours later. A failures do not clear until an admin acts or a
    # limit resets (a day, a month): resending sooner fails again and uses up the limit. So the
    # text ends "failed" with a reason that says a retry later may work, and staff use
    # "Send again" (message_retry) when it makes sense.
    with transaction.atomic():
        failed = transition_many(
            [m.pk for m in messages],
            from_statuses=[Status.SENT],
            to=Status.FAILED,
            event=entry.reason,
            event_code=entry.code,
            error_code=entry.code,
            error_reason=entry.reason,
            next_status_check_at=None,
        )
        if optouts.is_opt_out_code(entry.code):
            # RingCentral (or the carrier) has them opted out: the list here learns it, so the
            # next text to them is refused before it is made, and their scheduled ones are
            # canceled (docs/ringcentral.md#opt-out).
            for message in messages:
                if message.pk in failed:
                    optouts.optout_add(
                        our_number=message.from_number,
                        their_number=message.to_number,
                        source=OptOut.Source.DELIVERY_ERROR,
                        reason=f"{entry.code}: {entry.meaning}",
                        message=message,
                    )
    for message_id in failed:
        metrics.text_outcome("failed", delivery_class(entry.outcome))
        logger.info(
            "SMS #%s failed after sending: %s",
            message_id,
            entry.meaning,
            extra={"message_id": message_id, "error_code": entry.code},
        )
    return failed


def _look_again(
    message: Message, entry: DeliveryCode, *, now: datetime, deadline: datetime
) -> bool:
    """A "look again later" code: check again on the code's schedule, a bounded number of
    times, then end as "sent, no delivery receipt"."""
    # The events are the count (one per look scheduled): no model field needed.
    looks = message.events.filter(status=Status.SENT, error_code=entry.code).count()
    if now >= deadline or looks >= entry.look_again_times or entry.look_again_after is None:
        return _no_receipt(message, entry.code)
    when = min(now + entry.look_again_after, deadline)
    return transition(
        message.pk,
        from_statuses=[Status.SENT],
        to=Status.SENT,
        event=f"{entry.reason} (look {looks + 1} of {entry.look_again_times}, "
        f"due {when:%Y-%m-%d %H:%M} UTC)",
        event_code=entry.code,
        only_if=_still_due(message),
        status_checks=F("status_checks") + 1,
        next_status_check_at=when,
    )


def _check_again(message: Message, deadline: datetime) -> None:
    # 10 s, 20 s, 40 s, ... up to 30 min: most texts settle in seconds, some take hours. Never
    # past the deadline, so the last look is on time.
    delay = min(MAX_CHECK_INTERVAL, timedelta(seconds=10 * 2 ** min(message.status_checks, 20)))
    # Routine: no event (the timeline would fill with "still no receipt").
    Message.objects.filter(_still_due(message)).update(
        status_checks=F("status_checks") + 1,
        next_status_check_at=min(timezone.now() + delay, deadline),
    )


def _no_receipt(message: Message, code: str = "") -> bool:
    """End as "sent, no delivery receipt": still SENT, no more checks, said in words."""
    reason = delivery_codes.no_receipt_reason(code)
    code = code or delivery_codes.NO_RECEIPT_CODE
    ended = transition(
        message.pk,
        from_statuses=[Status.SENT],
        to=Status.SENT,
        event=reason,
        event_code=code,
        only_if=_still_due(message),
        next_status_check_at=None,
        error_code=code,
        error_reason=reason,
    )
    if ended:
        metrics.text_outcome("no_receipt", "look_again")
    return ended


def _still_due(message: Message) -> Q:
    # Only if nobody (an overlapping run) has handled this check since we read the row.
    return Q(pk=message.pk, status=Status.SENT, next_status_check_at=message.next_status_check_at)


def _deadline(message: Message) -> datetime:
    return (message.sent_at or message.created_at) + NO_RECEIPT_AFTER
