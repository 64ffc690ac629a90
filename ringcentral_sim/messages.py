"""The message store: accepted SMS, their status over time, and duplicate detection."""

from __future__ import annotations

import itertools
import math
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ringcentral_sim.config import SimConfig
from ringcentral_sim.errors import ApiError, invalid_parameter

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
MAX_TEXT_UTF16_UNITS = 1000
# The one date form the reference and every official sample use: UTC, "Z", milliseconds
# (ListMessagesParameters: "for example 2016-03-10T18:07:52.534Z"); without them is accepted too.
STORE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$")
POSITIVE_INT = re.compile(r"^[0-9]+$")
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000  # EnumeratedPagingModel.perPage: Maximum 1000; larger values are clamped
# Multi-value list filters and their allowed values (ListMessagesParameters; "Text" is a message
# type in GetMessageInfoResponse). Anything else is 400 CMN-101.
LIST_ENUMS: dict[str, frozenset[str]] = {
    "direction": frozenset({"Inbound", "Outbound"}),
    "messageType": frozenset({"SMS", "Fax", "Pager", "VoiceMail", "Text"}),
    "availability": frozenset({"Alive", "Deleted", "Purged"}),
    "readStatus": frozenset({"Read", "Unread"}),
}
# What every record the simulator holds is for the other filters: an alive SMS. Direction and
# readStatus come from the record (outbound texts are Read, inbound ones Unread).
RECORD_VALUES = {"messageType": "SMS", "availability": "Alive"}
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
    direction: str = "Outbound"
    # An outbound text to an opted-out pair: RingCentral accepts it, then it ends SendingFailed
    # with this code instead of reaching Sent (docs/ringcentral.md#opt-out).
    blocked_code: str | None = None

    @property
    def our_number(self) -> str:
        return self.from_number if self.direction == "Outbound" else self.to_numbers[0]

    @property
    def their_numbers(self) -> list[str]:
        return self.to_numbers if self.direction == "Outbound" else [self.from_number]

    @property
    def read_status(self) -> str:
        # A text we sent is read; one that came in is Unread until someone reads it (the
        # simulator has no way to mark it read).
        return "Read" if self.direction == "Outbound" else "Unread"

    def value_of(self, name: str) -> str:
        """The record's value for a multi-value list filter (LIST_ENUMS)."""
        if name == "direction":
            return self.direction
        if name == "readStatus":
            return self.read_status
        return RECORD_VALUES[name]


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{int(ts * 1000) % 1000:03d}Z"
    )


def parse_store_date(name: str, value: str, *, strict: bool) -> float:
    """A dateFrom/dateTo value as a timestamp, or 400 CMN-101 naming the parameter."""
    if strict and not STORE_DATE.match(value):
        raise invalid_parameter(name)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid_parameter(name) from exc
    if parsed.tzinfo is None:  # lenient mode only: the strict form always ends in Z
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def digits(number: str) -> str:
    return "".join(c for c in number if c.isdigit())


@dataclass
class StoreQuery:
    """A message-store list request, validated. Filters are None when not given."""

    date_from: float
    date_to: float
    filters: dict[str, frozenset[str]]
    phone_digits: str | None
    page: int
    per_page: int

    @classmethod
    def parse(cls, values: Callable[[str], list[str]], *, now: float, strict_dates: bool):
        """From `values(name)`, every value a query parameter was given (repeats included)."""
        filters: dict[str, frozenset[str]] = {}
        for name, allowed in LIST_ENUMS.items():
            given = values(name)
            if any(v not in allowed for v in given):
                raise invalid_parameter(name)
            if given:
                filters[name] = frozenset(given)
        page = _positive_int(values, "page", 1)
        per_page = min(_positive_int(values, "perPage", DEFAULT_PER_PAGE), MAX_PER_PAGE)
        date_to = _date(values, "dateTo", strict_dates)
        date_to = now if date_to is None else date_to
        date_from = _date(values, "dateFrom", strict_dates)
        # ListMessagesParameters: "The default value is dateTo minus 24 hours".
        date_from = date_to - 86400 if date_from is None else date_from
        number = _first(values, "phoneNumber")
        return cls(
            date_from=date_from,
            date_to=date_to,
            filters=filters,
            phone_digits=None if number is None else digits(number),
            page=page,
            per_page=per_page,
        )


def _first(values: Callable[[str], list[str]], name: str) -> str | None:
    # A single-valued parameter given twice: the first one counts (undocumented either way).
    given = values(name)
    return given[0] if given else None


def _positive_int(values: Callable[[str], list[str]], name: str, default: int) -> int:
    value = _first(values, name)
    if value is None:
        return default
    if not POSITIVE_INT.match(value) or int(value) < 1:
        raise invalid_parameter(name)
    return int(value)


def _date(values: Callable[[str], list[str]], name: str, strict: bool) -> float | None:
    value = _first(values, name)
    return None if value is None else parse_store_date(name, value, strict=strict)


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
        # Ids from the clock (milliseconds, int64 like RingCentral's): a restarted simulator
        # never hands out an id it gave a text before, which an app database still holds.
        self._ids = itertools.count(int(time.time() * 1000))
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

    def receive(
        self, user: dict[str, Any], from_number: str, to_number: str, text: str, *, now: float
    ) -> StoredMessage:
        """A text someone sent to one of the user's numbers: an Inbound, Received record."""
        message = StoredMessage(
            next(self._ids),
            user_owner(user),
            from_number,
            [to_number],
            text,
            now,
            direction="Inbound",
        )
        self.messages.append(message)
        return message

    def outbound(self) -> list[StoredMessage]:
        return [m for m in self.messages if m.direction == "Outbound"]

    def get(self, user: dict[str, Any], message_id: int) -> StoredMessage:
        for message in self.messages:
            if message.id == message_id and message.owner == user_owner(user):
                return message
        raise ApiError(404, "CMN-102", "Resource for parameter [messageId] is not found")

    def search(
        self, user: dict[str, Any], query: StoreQuery, *, now: float, lag: float = 0.0
    ) -> list[StoredMessage]:
        """Every match, newest first. A text shows up in lists only `lag` seconds after it was
        accepted (reads by id work at once), but is filtered by its real creationTime."""
        found = [
            m
            for m in self.messages
            if m.owner == user_owner(user)
            and m.created_at + lag <= now
            and query.date_from <= m.created_at <= query.date_to
            and all(m.value_of(name) in wanted for name, wanted in query.filters.items())
            and (query.phone_digits is None or _has_number(m, query.phone_digits))
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


def _has_number(message: StoredMessage, wanted_digits: str) -> bool:
    # How the real filter matches is undocumented: digits only, from or any to, so that
    # "+1650..." and "1650..." find the same records.
    numbers = [message.from_number, *message.to_numbers]
    return bool(wanted_digits) and any(digits(n) == wanted_digits for n in numbers)


def paging_of(
    total: int, page: int, per_page: int, uri_for: Callable[[int], str]
) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    """`paging` (EnumeratedPagingModel) and `navigation` (PageNavigationModel) for one page:
    pageStart/pageEnd only when the page has records, navigation keys only where they lead."""
    total_pages = math.ceil(total / per_page)
    last = max(total_pages, 1)
    start = (page - 1) * per_page
    shown = max(0, min(per_page, total - start))
    paging = {"page": page, "perPage": per_page}
    if shown:
        paging |= {"pageStart": start, "pageEnd": start + shown - 1}
    paging |= {"totalPages": total_pages, "totalElements": total}
    navigation = {"firstPage": {"uri": uri_for(1)}}
    if page < total_pages:
        navigation["nextPage"] = {"uri": uri_for(page + 1)}
    if page > 1:
        navigation["previousPage"] = {"uri": uri_for(min(page - 1, last))}
    navigation["lastPage"] = {"uri": uri_for(last)}
    return paging, navigation


def _can_send_from(user: dict[str, Any], number: str) -> bool:
    return any(
        record["phoneNumber"] == number
        and "SmsSender" in record["features"]
        and record["status"] == "Normal"
        for record in user["phone_numbers"]
    )


def _code_for(numbers: list[str], table: dict[str, str]) -> str | None:
    return next((table[n] for n in numbers if n in table), None)


def status_at(
    config: SimConfig, message: StoredMessage, now: float
) -> tuple[str, float, str | None]:
    """The status the message has reached by `now`, when it reached it, and its
    deliveryErrorCode. One recipient that fails decides for the whole record, a sending
    failure first (GetMessageInfoResponse.messageStatus aggregates the same way). The time is
    the record's lastModifiedTime: it moves with every status change, which message-sync's
    ISync relies on. An inbound text is Received from the start and never changes."""
    if message.direction == "Inbound":
        return "Received", message.created_at, None
    age = now - message.created_at
    sent_at = message.created_at + config.sent_after_seconds
    if age >= config.sent_after_seconds:
        code = message.blocked_code or _code_for(message.to_numbers, config.sending_failed_numbers)
        if code:  # never handed to a carrier: Queued -> SendingFailed
            return "SendingFailed", sent_at, code
    if age >= config.delivered_after_seconds:
        changed = message.created_at + config.delivered_after_seconds
        code = _code_for(message.to_numbers, config.failing_numbers)
        if code:
            return "DeliveryFailed", changed, code
        if any(n in config.no_receipt_numbers for n in message.to_numbers):
            return "Sent", sent_at, None  # no receipt ever comes: Sent for good
        return "Delivered", changed, None
    if age >= config.sent_after_seconds:
        return "Sent", sent_at, None
    return "Queued", message.created_at, None


def render(
    config: SimConfig,
    message: StoredMessage,
    *,
    base_url: str,
    now: float,
    canonical: bool = False,
) -> dict[str, Any]:
    """The record as RingCentral's API shows it; `canonical` keeps numbers E.164 whatever the
    store settings (for the inbox page and the control API, which are not RingCentral's)."""
    status, changed_at, error_code = status_at(config, message, now)
    plain = config.store_numbers_without_plus and not canonical

    def number(value: str) -> str:
        return value.removeprefix("+") if plain else value

    uri = f"{base_url}/restapi/v1.0/account/~/extension/~/message-store/{message.id}"
    conversation = conversation_id(message)
    record: dict[str, Any] = {
        "id": message.id,
        "uri": uri,
        "type": "SMS",
        "direction": message.direction,
        "messageStatus": status,
        "readStatus": message.read_status,
        "priority": "Normal",
        "availability": "Alive",
        "from": {"phoneNumber": number(message.from_number)},
        "to": [{"phoneNumber": number(n)} for n in message.to_numbers],
        "subject": message.text,
        # The text is also an attachment (GetMessageInfoResponse.subject: "It replicates
        # message text which is also returned as an attachment"; MessageAttachmentInfo).
        "attachments": [attachment(message, uri)],
        "creationTime": iso(message.created_at),
        "lastModifiedTime": iso(changed_at),
        "conversation": {
            "id": conversation,
            "uri": f"{base_url}/restapi/v1.0/conversation/{conversation}",
        },
    }
    if message.direction == "Outbound":
        record["smsSendingAttemptsCount"] = 1
        record["segmentCount"] = segment_count(message.text)
    if status == "Delivered":
        # Set only when the carrier sent a receipt (GetMessageInfoResponse.smsDeliveryTime).
        record["smsDeliveryTime"] = iso(changed_at)
    if error_code:
        record["deliveryErrorCode"] = error_code
    return record


def conversation_id(message: StoredMessage) -> str:
    """One id per (our number, their numbers), whichever way the text went: a reply lands in
    the conversation of the text it answers (ConversationInfo.id, a string)."""
    key = f"{message.our_number}|{','.join(sorted(message.their_numbers))}"
    return str(zlib.crc32(key.encode()))


def attachment(message: StoredMessage, uri: str) -> dict[str, Any]:
    return {
        "id": message.id,
        "uri": f"{uri}/content/{message.id}",
        "type": "Text",
        "contentType": "text/plain",
    }
