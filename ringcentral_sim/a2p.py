"""High-volume (A2P) SMS: batches, their messages, status over time, and token paging."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ringcentral_sim.config import SimConfig
from ringcentral_sim.errors import ApiError, invalid_parameter
from ringcentral_sim.messages import (
    E164,
    MAX_TEXT_UTF16_UNITS,
    StoredMessage,
    digits,
    iso,
    parse_store_date,
    segment_count,
    status_at,
    utf16_units,
)

# ListA2PSMSParameters.perPage: "Default: 1000"; NonEnumeratedPagingModel.perPage: 1..1000.
# ListA2PBatchesParameters gives no default: the same 1000 is our reading. Larger is clamped.
DEFAULT_PER_PAGE = 1000
MAX_PER_PAGE = 1000
# ListA2PSMSParameters.phoneNumber: "Maximum number of phone numbers ... is 15".
MAX_PHONE_FILTERS = 15
# ListA2PBatchesParameters.status lists four values; MessageBatchResponse.status has only
# Processing and Completed, so Queued and Sent are accepted and match no batch (our reading).
BATCH_STATUS_FILTER = frozenset({"Queued", "Processing", "Sent", "Completed"})
DIRECTIONS = frozenset({"Inbound", "Outbound"})
VIEWS = frozenset({"Simple", "Detailed"})
# RejectedRecipientResponseResource's own example: "CMN-100", "The recipient is invalid".
INVALID_RECIPIENT = ("CMN-100", "The recipient is invalid")
# No code is documented for a message without text or with too long a text: our reading, the
# codes POST /sms gives for the same faults (CMN-101 for the parameter, MSG-338 for length).
MISSING_TEXT = ("CMN-101", "Parameter [text] value is invalid: the message has no text")
TEXT_TOO_LONG = ("MSG-338", f"Text is too long: at most {MAX_TEXT_UTF16_UNITS} characters")
# A message that never reached a carrier (Queued, SendingFailed) costs nothing (our reading).
UNBILLED = frozenset({"Queued", "SendingFailed"})


@dataclass
class A2PMessage(StoredMessage):
    """One accepted message of a batch; `to_numbers` always holds exactly one number."""

    batch_id: str = ""


@dataclass
class A2PBatch:
    id: str
    account: str
    owner: str
    from_number: str
    created_at: float
    seq: int
    messages: list[A2PMessage] = field(default_factory=list)


def user_can_send_a2p(user: dict[str, Any], number: str) -> bool:
    return any(
        record["phoneNumber"] == number
        and "A2PSmsSender" in record["features"]
        and record["status"] == "Normal"
        for record in user["phone_numbers"]
    )


class A2PStore:
    """Not thread-safe on its own: the simulator calls it under its state lock."""

    def __init__(self) -> None:
        # Clock-based int64 ids, like the message store's: a restarted simulator never
        # hands out an id an app database may still hold. Its own range: a2p ids and
        # message-store ids never collide.
        self._ids = itertools.count(int(time.time() * 1000) * 10)
        self._seq = itertools.count(1)
        self.batches: list[A2PBatch] = []
        self._arrivals: Counter[tuple[str, str, str]] = Counter()

    # -- POST a2p-sms/batches ---------------------------------------------------------------

    def create(
        self,
        config: SimConfig,
        user: dict[str, Any],
        body: Any,
        *,
        now: float,
        blocked: Callable[[str, str], str | None],
    ) -> tuple[A2PBatch, list[dict[str, Any]]]:
        """A new batch from a MessageBatchCreateRequest, and its rejected rows. `blocked(from,
        to)` names the code an opted-out pair ends SendingFailed with, or None."""
        if not isinstance(body, dict):
            raise invalid_parameter("body")
        from_number = body.get("from")
        if not isinstance(from_number, str) or not from_number:
            raise invalid_parameter("from")
        default_text = body.get("text")
        if default_text is not None and not isinstance(default_text, str):
            raise invalid_parameter("text")
        items = body.get("messages")
        if not isinstance(items, list) or not items:
            raise invalid_parameter("messages")
        for item in items:
            # A malformed structure refuses the whole request; a bad value only its row.
            if not isinstance(item, dict):
                raise invalid_parameter("messages")
            to = item.get("to")
            if not isinstance(to, list) or not all(isinstance(n, str) for n in to):
                raise invalid_parameter("messages.to")
            if item.get("text") is not None and not isinstance(item["text"], str):
                raise invalid_parameter("messages.text")
        if not user_can_send_a2p(user, from_number):
            raise ApiError(
                403,
                config.a2p_sender_refused_code,
                "The from number is not assigned to this extension or lacks the A2PSmsSender "
                "feature",
            )
        if len(items) > config.a2p_max_batch_size:
            raise ApiError(
                400,
                "CMN-101",
                f"Parameter [messages] value is invalid: at most {config.a2p_max_batch_size} "
                "messages in one batch",
                parameter="messages",
            )
        batch = A2PBatch(
            id=str(uuid.uuid4()),
            account=user["account_id"],
            owner=user["extension_id"],
            from_number=from_number,
            created_at=now,
            seq=next(self._seq),
        )
        rejected: list[dict[str, Any]] = []
        for index, item in enumerate(items, start=1):
            to = item["to"]
            text = item.get("text") or default_text
            problem = _row_problem(to, text)
            if problem is not None:
                code, description = problem
                # RejectedRecipientResponseResource: the position in `messages` (1-based,
                # the definition's example is 1) and the recipient as sent.
                rejected.append(
                    {"index": index, "to": list(to), "errorCode": code, "description": description}
                )
                continue
            message = A2PMessage(
                next(self._ids),
                batch.owner,
                from_number,
                [to[0]],
                str(text),  # _row_problem let only a non-empty string through
                now,
                blocked_code=blocked(from_number, to[0]),
                batch_id=batch.id,
            )
            batch.messages.append(message)
            self._arrivals[(from_number, to[0], message.text)] += 1
        self.batches.append(batch)
        return batch, rejected

    # -- reads ------------------------------------------------------------------------------

    def batch(self, account: str, batch_id: str) -> A2PBatch:
        for batch in self.batches:
            if batch.id == batch_id and batch.account == account:
                return batch
        raise ApiError(404, "CMN-102", "Resource for parameter [batchId] is not found")

    def message(self, account: str, message_id: str) -> A2PMessage:
        for batch in self.batches:
            if batch.account != account:
                continue
            for message in batch.messages:
                if str(message.id) == message_id:
                    return message
        raise ApiError(404, "CMN-102", "Resource for parameter [messageId] is not found")

    def list_batches(
        self,
        config: SimConfig,
        account: str,
        values: Callable[[str], list[str]],
        *,
        now: float,
    ) -> dict[str, Any]:
        """BatchListResponse: the account's batches, newest first, paged by token."""
        statuses = _multi(values, "status", BATCH_STATUS_FILTER)
        sender = _first(values, "from")
        window, cursor, per_page = _paging(config, values, "batches", now)
        found = [
            b
            for b in self.batches
            if b.account == account
            and window[0] <= b.created_at < window[1]
            and (sender is None or digits(b.from_number) == digits(sender))
            and (statuses is None or batch_status(config, b, now)[0] in statuses)
        ]
        found.sort(key=lambda b: (b.created_at, b.seq), reverse=True)
        page, paging = _page(
            found, lambda b: (b.created_at, b.seq), window, cursor, per_page, "batches"
        )
        return {
            "records": [render_batch(config, b, now) for b in page],
            "paging": paging | {"perPage": per_page},
        }

    def list_messages(
        self,
        config: SimConfig,
        account: str,
        values: Callable[[str], list[str]],
        *,
        now: float,
    ) -> dict[str, Any]:
        """MessageListResponse: the account's A2P messages, newest first, paged by token."""
        directions = _multi(values, "direction", DIRECTIONS)
        view = _first(values, "view") or "Simple"
        if view not in VIEWS:
            raise invalid_parameter("view")
        numbers = values("phoneNumber")
        if len(numbers) > MAX_PHONE_FILTERS:
            raise invalid_parameter("phoneNumber")
        wanted = {digits(n) for n in numbers if digits(n)} or None
        if numbers and wanted is None:
            raise invalid_parameter("phoneNumber")
        batch_id = _first(values, "batchId")
        window, cursor, per_page = _paging(config, values, "messages", now)
        found = [
            m
            for b in self.batches
            if b.account == account and (batch_id is None or b.id == batch_id)
            for m in b.messages
            if window[0] <= m.created_at < window[1]
            and (directions is None or m.direction in directions)
            and (
                wanted is None
                or digits(m.from_number) in wanted
                or any(digits(n) in wanted for n in m.to_numbers)
            )
        ]
        found.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        page, paging = _page(
            found, lambda m: (m.created_at, m.id), window, cursor, per_page, "messages"
        )
        return {
            "records": [
                render_message(config, m, now, detailed=view == "Detailed", id_as_string=False)
                for m in page
            ],
            "paging": paging | {"perPage": per_page},
        }

    # -- control API ------------------------------------------------------------------------

    def messages(self) -> list[A2PMessage]:
        return [m for b in self.batches for m in b.messages]

    def duplicates(self) -> int:
        """How many acceptances repeated an earlier (from, to, text): 0 when exactly once."""
        return sum(count - 1 for count in self._arrivals.values())


def _row_problem(to: list[str], text: str | None) -> tuple[str, str] | None:
    # MessageCreateRequest.to: "Currently only one number is supported".
    if len(to) != 1 or not E164.match(to[0]):
        return INVALID_RECIPIENT
    if not text:
        return MISSING_TEXT
    if utf16_units(text) > MAX_TEXT_UTF16_UNITS:
        return TEXT_TOO_LONG
    return None


def message_state(
    config: SimConfig, message: A2PMessage, now: float
) -> tuple[str, float, str | None]:
    """Status, lastModifiedTime and errorCode: the rules of POST /sms texts (status_at)."""
    return status_at(config, message, now)


def message_cost(config: SimConfig, message: A2PMessage, status: str) -> float:
    if status in UNBILLED:
        return 0.0
    return round(segment_count(message.text) * config.a2p_cost_per_segment, 6)


def batch_status(config: SimConfig, batch: A2PBatch, now: float) -> tuple[str, int, float]:
    """(status, processedCount, lastModifiedTime). A message is processed once it has left
    Queued (Sent or SendingFailed); the batch is Completed when all of them have (our
    reading: MessageBatchResponse only says Processing, then Completed)."""
    processed = [
        changed
        for status, changed, _ in (message_state(config, m, now) for m in batch.messages)
        if status != "Queued"
    ]
    # When each message left Queued: it is sent_after_seconds after creation for all of them.
    left_queue = batch.created_at + config.sent_after_seconds
    done = len(processed) == len(batch.messages)
    changed = left_queue if processed else batch.created_at
    return ("Completed" if done else "Processing"), len(processed), changed


def render_batch(config: SimConfig, batch: A2PBatch, now: float) -> dict[str, Any]:
    """MessageBatchResponse without `rejected`, which only the POST answer carries."""
    status, processed, changed = batch_status(config, batch, now)
    cost = 0.0
    if status == "Completed":
        # "Calculated after batch processing is completed": 0 until then (our reading).
        cost = round(
            sum(message_cost(config, m, message_state(config, m, now)[0]) for m in batch.messages),
            6,
        )
    return {
        "id": batch.id,
        "from": batch.from_number,
        "batchSize": len(batch.messages),
        "processedCount": processed,
        "status": status,
        "creationTime": iso(batch.created_at),
        "lastModifiedTime": iso(changed),
        "cost": cost,
    }


def render_message(
    config: SimConfig, message: A2PMessage, now: float, *, detailed: bool, id_as_string: bool
) -> dict[str, Any]:
    """MessageListMessageResponse (list: int64 id, text only in the Detailed view) or
    MessageDetailsResponse (GET by id: string id, text always)."""
    status, changed, code = message_state(config, message, now)
    record: dict[str, Any] = {
        "id": str(message.id) if id_as_string else message.id,
        "batchId": message.batch_id,
        "from": message.from_number,
        "to": list(message.to_numbers),
        "creationTime": iso(message.created_at),
        "lastModifiedTime": iso(changed),
        "messageStatus": status,
        "segmentCount": segment_count(message.text),
        "cost": message_cost(config, message, status),
        "direction": message.direction,
    }
    if detailed:
        record["text"] = message.text
    if code:
        # A2P records name it errorCode (MessageListMessageResponse), not deliveryErrorCode.
        record["errorCode"] = code
    return record


# -- query parameters and page tokens ---------------------------------------------------------


def _first(values: Callable[[str], list[str]], name: str) -> str | None:
    given = values(name)
    return given[0] if given else None


def _multi(
    values: Callable[[str], list[str]], name: str, allowed: frozenset[str]
) -> frozenset[str] | None:
    """A list filter, as repeated keys or comma-separated (the definitions' example is
    "Queued,Processing"); None when not given."""
    given = [part.strip() for value in values(name) for part in value.split(",")]
    if any(value not in allowed for value in given):
        raise invalid_parameter(name)
    return frozenset(given) if given else None


def _paging(
    config: SimConfig, values: Callable[[str], list[str]], kind: str, now: float
) -> tuple[tuple[float, float], tuple[float, int] | None, int]:
    """(dateFrom, dateTo) window, the cursor after which this page starts, and perPage. A
    pageToken carries the window its first page resolved, so a default dateTo of "now" does
    not move while a client pages (our reading)."""
    raw = _first(values, "perPage")
    per_page = DEFAULT_PER_PAGE
    if raw is not None:
        if not raw.isdigit() or int(raw) < 1:
            raise invalid_parameter("perPage")
        per_page = min(int(raw), MAX_PER_PAGE)
    token = _first(values, "pageToken")
    if token:
        state = _decode(token, kind)
        return (state["from"], state["to"]), state.get("after"), per_page
    strict = config.strict_store_dates
    date_to = _first(values, "dateTo")
    end = now if date_to is None else parse_store_date("dateTo", date_to, strict=strict)
    date_from = _first(values, "dateFrom")
    # "Default is the 'dateTo' minus 24 hours" (both parameter definitions).
    if date_from is None:
        start = end - 86400
    else:
        start = parse_store_date("dateFrom", date_from, strict=strict)
    # dateTo is exclusive: "earlier than dateTo" (ListA2PSMSParameters, .NET SDK). A record
    # made in the same instant as a default "now" must still be listed: nudge the end.
    return (start, end + (0.001 if date_to is None else 0.0)), None, per_page


def _page(
    found: list[Any],
    key: Callable[[Any], tuple[float, int]],
    window: tuple[float, float],
    cursor: tuple[float, int] | None,
    per_page: int,
    kind: str,
) -> tuple[list[Any], dict[str, Any]]:
    """One page of `found` (sorted newest first) after `cursor`, and its paging. Tokens name
    the last record seen, not an offset: records created while a client pages come before
    its cursor, so every record it pages through comes exactly once."""
    rest = found if cursor is None else [r for r in found if key(r) < tuple(cursor)]
    page = rest[:per_page]
    paging: dict[str, Any] = {"firstPageToken": _encode(kind, window, None)}
    if page:
        paging["pageToken"] = _encode(kind, window, cursor)
    if len(rest) > per_page:
        paging["nextPageToken"] = _encode(kind, window, key(page[-1]))
    return page, paging


# Which list a token belongs to: a batches token given to the messages list is refused.
_KIND = {"batches": "b", "messages": "m"}


def _encode(kind: str, window: tuple[float, float], after: tuple[float, int] | None) -> str:
    state: dict[str, Any] = {"k": _KIND[kind], "from": window[0], "to": window[1]}
    if after is not None:
        state["after"] = list(after)
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def _decode(token: str, kind: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
        if state["k"] != _KIND[kind]:
            raise ValueError("a token of another list")
        state["from"], state["to"] = float(state["from"]), float(state["to"])
        after = state.get("after")
        if after is not None:
            state["after"] = (float(after[0]), int(after[1]))
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error) as exc:
        raise invalid_parameter("pageToken") from exc
    return state
