"""The message store: accepted SMS, their status over time, and duplicate detection."""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ringcentral_sim.config import SimConfig
from ringcentral_sim.errors import ApiError, invalid_parameter

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
MAX_TEXT_UTF16_UNITS = 1000
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass
class StoredMessage:
    id: int
    owner: str
    from_number: str
    to_numbers: list[str]
    text: str
    created_at: float


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{int(ts * 1000) % 1000:03d}Z"
    )


def parse_iso(value: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise invalid_parameter("dateFrom") from exc


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def segment_count(text: str) -> int:
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        septets = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = utf16_units(text)
    return 1 if units <= 70 else math.ceil(units / 67)


class MessageStore:
    """Not thread-safe on its own: the simulator calls it under its state lock."""

    def __init__(self) -> None:
        self._ids = itertools.count(1_000_000_001)
        self.messages: list[StoredMessage] = []
        self._arrivals: Counter[tuple[tuple[str, ...], str]] = Counter()

    def accept(
        self, config: SimConfig, user: dict[str, Any], body: Any, *, now: float
    ) -> StoredMessage:
        if not isinstance(body, dict):
            raise invalid_parameter("body")
        sender = body.get("from")
        from_number = sender.get("phoneNumber") if isinstance(sender, dict) else None
        if not isinstance(from_number, str) or not from_number:
            raise invalid_parameter("from")
        recipients = body.get("to")
        if not isinstance(recipients, list) or not recipients:
            raise invalid_parameter("to")
        to_numbers = []
        for recipient in recipients:
            number = recipient.get("phoneNumber") if isinstance(recipient, dict) else None
            if not isinstance(number, str) or not E164.match(number):
                raise invalid_parameter("to.phoneNumber")
            to_numbers.append(number)
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise invalid_parameter("text")
        if utf16_units(text) > MAX_TEXT_UTF16_UNITS:
            raise ApiError(400, "MSG-338", "Text is too long: at most 1000 characters")
        if not _can_send_from(user, from_number):
            raise ApiError(
                403,
                "MSG-242",
                "The from number is not assigned to this extension or lacks the SmsSender feature",
            )
        message = StoredMessage(
            next(self._ids), user_owner(user), from_number, to_numbers, text, now
        )
        self.messages.append(message)
        self._arrivals[(tuple(to_numbers), text)] += 1
        return message

    def get(self, user: dict[str, Any], message_id: int) -> StoredMessage:
        for message in self.messages:
            if message.id == message_id and message.owner == user_owner(user):
                return message
        raise ApiError(404, "CMN-102", "Resource for parameter [messageId] is not found")

    def search(self, user: dict[str, Any], query: dict[str, str], *, now: float) -> list:
        # Without dateFrom the real API returns the last 24 hours only.
        date_from = parse_iso(query["dateFrom"]) if "dateFrom" in query else now - 86400
        date_to = parse_iso(query["dateTo"]) if "dateTo" in query else math.inf
        direction = query.get("direction")
        message_type = query.get("messageType")
        number = query.get("phoneNumber")
        found = [
            m
            for m in self.messages
            if m.owner == user_owner(user)
            and date_from <= m.created_at <= date_to
            and direction in (None, "Outbound")
            and message_type in (None, "SMS")
            and (number is None or number == m.from_number or number in m.to_numbers)
        ]
        return sorted(found, key=lambda m: (m.created_at, m.id), reverse=True)

    def duplicates(self) -> list[dict[str, Any]]:
        return [
            {"to": list(to), "text": text, "count": count}
            for (to, text), count in self._arrivals.items()
            if count > 1
        ]


def user_owner(user: dict[str, Any]) -> str:
    return user["extension_id"]


def _can_send_from(user: dict[str, Any], number: str) -> bool:
    return any(
        record["phoneNumber"] == number
        and "SmsSender" in record["features"]
        and record["status"] == "Normal"
        for record in user["phone_numbers"]
    )


def status_at(config: SimConfig, message: StoredMessage, now: float) -> tuple[str, float]:
    """The status the message has reached by `now`, and when it reached it."""
    age = now - message.created_at
    if age >= config.delivered_after_seconds:
        failing = any(n in config.failing_numbers for n in message.to_numbers)
        changed = message.created_at + config.delivered_after_seconds
        return ("DeliveryFailed" if failing else "Delivered"), changed
    if age >= config.sent_after_seconds:
        return "Sent", message.created_at + config.sent_after_seconds
    return "Queued", message.created_at


def render(config: SimConfig, message: StoredMessage, *, base_url: str, now: float) -> dict:
    status, changed_at = status_at(config, message, now)
    record: dict[str, Any] = {
        "id": message.id,
        "uri": f"{base_url}/restapi/v1.0/account/~/extension/~/message-store/{message.id}",
        "type": "SMS",
        "direction": "Outbound",
        "messageStatus": status,
        "readStatus": "Read",
        "priority": "Normal",
        "availability": "Alive",
        "from": {"phoneNumber": message.from_number},
        "to": [{"phoneNumber": n} for n in message.to_numbers],
        "subject": message.text,
        "creationTime": iso(message.created_at),
        "lastModifiedTime": iso(changed_at),
        "conversation": {"id": str(zlib.crc32(",".join(message.to_numbers).encode()))},
        "smsSendingAttemptsCount": 1,
        "segmentCount": segment_count(message.text),
    }
    if status == "Delivered":
        record["smsDeliveryTime"] = iso(changed_at)
    if status == "DeliveryFailed":
        failing = next(n for n in message.to_numbers if n in config.failing_numbers)
        record["deliveryErrorCode"] = config.failing_numbers[failing]
    return record
