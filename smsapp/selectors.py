"""Reads for the pages: filtered history, live statuses and new rows, attempt counts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from smsapp.models import Message, MessageEvent
from smsapp.phones import to_e164
from smsapp.services.messages import RETRY_EVENT
from smsapp.templatetags.smsapp_time import format_local

# Before any text this app can have sent.
EARLIEST_DAY = date(2000, 1, 1)
# The largest primary key the database holds (a 64-bit integer). SQLite raises OverflowError
# for a larger one where PostgreSQL finds no row; either way, no message has it.
MAX_MESSAGE_ID = 2**63 - 1
# ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
_ID = re.compile(r"[0-9]{1,19}", re.ASCII)
# Staff type numbers as they read them: "(650) 555-0101", "+1 650-555-0101", "5550101".
_NOT_DIGIT = re.compile(r"[^0-9]")
# A history row shows this much of the text; the detail page has all of it.
ROW_TEXT_CHARS = 80
# Statuses whose error_reason is the current reason: why it is waiting (queued for a retry or
# held for a login problem), being checked, or ended. "sending" keeps the previous attempt's
# reason while the next runs: shown again if that attempt fails too.
REASON_STATUSES = {Message.Status.QUEUED, Message.Status.UNCERTAIN, Message.Status.FAILED}
# Where a reason's first sentence (what happened) ends; the rest says what to do about it.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"(])")
# A transaction creating texts commits well within this: ids below a cursor this old are final,
# so a sender whose commit lands after a later id's is not skipped by the live history.
NEW_ROWS_SETTLE = timedelta(seconds=60)
# New rows one poll adds at most; more than that at once is a bulk send: reloading shows them.
MAX_NEW_ROWS = 50


def message_history(
    *,
    status: str = "",
    day_from: date | None = None,
    day_to: date | None = None,
    recipient: str = "",
    newer_than: int | None = None,
) -> QuerySet[Message]:
    messages = Message.objects.select_related("created_by").order_by("-created_at", "-id")
    if newer_than is not None:
        messages = messages.filter(pk__gt=newer_than)
    if status:
        messages = messages.filter(status=status)
    # A bound before the first text or after today filters nothing, so it is dropped: that
    # keeps the calendar's far ends from overflowing (9999-12-31 west of UTC is the year 10000
    # in UTC, 0001-01-01 east of it the year 0).
    if day_from and day_from > EARLIEST_DAY:
        messages = messages.filter(created_at__gte=_start_of(day_from))
    if day_to and day_to < timezone.localdate() + timedelta(days=1):
        messages = messages.filter(created_at__lt=_start_of(day_to + timedelta(days=1)))
    if recipient.strip():
        messages = to_recipient(messages, recipient)
    return messages


def to_recipient(messages: QuerySet[Message], typed: str) -> QuerySet[Message]:
    """Texts to the number `typed`, in any way compose accepts it, or containing its digits
    (see recipient_condition); nothing for a name or a word."""
    condition = recipient_condition(typed)
    return messages.filter(condition) if condition is not None else messages.none()


def recipient_condition(typed: str) -> Q | None:
    """The condition for texts to the number `typed`, or None when it cannot be a number.

    Numbers are stored in E.164 ("+16505550101"), so a whole number is parsed as compose
    parses it ("650 555 0101" in SMS_DEFAULT_REGION) and matched exactly; anything shorter
    matches on its digits alone, wherever they stand ("5550101"), which the trigram index
    answers. A plain condition, not a subquery: OR-ed with others (the admin's search), each
    part still uses its own index."""
    whole = to_e164(typed.strip(), settings.SMS_DEFAULT_REGION)
    if whole:
        return Q(to_number=whole)
    digits = _NOT_DIGIT.sub("", typed)
    if not digits:
        return None  # a name or a word: no number contains it
    return Q(to_number__contains=digits)


def new_rows_cursor(after: int = 0) -> int:
    """The `after` the live history asks from: the newest id old enough that no text at or
    below it can still appear (see NEW_ROWS_SETTLE), never lower than `after`. Rows above it
    that the page already shows are sent again until they are that old; the page skips them."""
    settled = Message.objects.filter(
        pk__gt=after, created_at__lt=timezone.now() - NEW_ROWS_SETTLE
    ).aggregate(newest=Max("id"))["newest"]
    return max(after, settled or 0)


def status_label(message: Message) -> str:
    # A "sent" text carries an error code only when the receipt never came (delivery_codes).
    if message.status == Message.Status.SENT and message.error_code:
        return "sent, no delivery receipt"
    return Message.Status(message.status).label


def status_flags(message: Message) -> dict[str, bool]:
    """What the status allows (Message.terminal, can_cancel, can_retry), for statuses.js: it
    stops polling a terminal text by this flag, not by a list of its own."""
    return {
        "terminal": message.terminal,
        "can_cancel": message.can_cancel,
        "can_retry": message.can_retry,
    }


def row_reason(message: Message) -> str:
    """The current reason of a text, in full, or "" (see REASON_STATUSES)."""
    if message.status in REASON_STATUSES or (
        message.status == Message.Status.SENT and message.error_code
    ):
        return message.error_reason
    return ""


def short_reason(reason: str) -> str:
    """What a history row shows of a reason: its first sentence, what happened ("The recipient
    has opted out of texts from this number (they replied STOP)."). What to do about it is on
    the text's own page, and in the row's tooltip."""
    return _SENTENCE_END.split(reason.strip(), maxsplit=1)[0]


def shown_time(when: datetime | None) -> str:
    """A time as the pages show it (the local_time filter): in the viewer's zone, to the
    minute, with the zone."""
    return format_local(when) if when is not None else ""


def _row_text(text: str) -> str:
    # Truncator normalises the whole text to count characters (a fifth of the history rows'
    # cost); a text no longer than the cut, the usual case, is shown as it is anyway.
    return text if len(text) <= ROW_TEXT_CHARS else Truncator(text).chars(ROW_TEXT_CHARS)


def history_rows(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """What a history row shows, for the page and for the rows statuses.js adds or updates:
    one builder, so a row looks the same whether it was rendered or added live."""
    return [
        {
            "id": m.pk,
            "url": reverse("smsapp:detail", args=[m.pk]),
            "created": shown_time(m.created_at),
            "created_iso": m.created_at.isoformat(),
            "scheduled_for": (
                shown_time(m.send_at) if m.send_at and m.status == Message.Status.SCHEDULED else ""
            ),
            "to": m.to_number,
            "conversation_url": reverse("conversations:with", args=[m.to_number]),
            "text": _row_text(m.text),
            "status": m.status,
            "label": status_label(m),
            "reason": short_reason(row_reason(m)),
            "reason_full": row_reason(m),
            "sent_by": str(m.created_by) if m.created_by else "—",
            **status_flags(m),
        }
        for m in messages
    ]


def message_statuses(ids: list[int]) -> dict[str, dict[str, Any]]:
    rows = Message.objects.filter(pk__in=ids).only("id", "status", "error_code", "error_reason")
    return {
        str(m.pk): {
            "status": m.status,
            "label": status_label(m),
            "error": m.error_reason or None,
            **status_flags(m),
        }
        for m in rows
    }


def history_rows_by_id(ids: list[int]) -> dict[str, dict[str, Any]]:
    messages = Message.objects.filter(pk__in=ids).select_related("created_by")
    return {str(row["id"]): row for row in history_rows(messages)}


def new_history_rows(*, after: int, **criteria: Any) -> list[dict[str, Any]]:
    """Rows created since `after` that the history's filters (`criteria`) let through, newest
    first, at most MAX_NEW_ROWS."""
    return history_rows(message_history(newer_than=after, **criteria)[:MAX_NEW_ROWS])


@dataclass(frozen=True)
class Attempts:
    current: int  # calls to RingCentral since the text was last sent again (or created)
    resends: int  # times a person asked to send it again
    since: datetime | None  # when the current series started, if by a "Send again"


def message_attempts(message: Message, events: Iterable[MessageEvent]) -> Attempts:
    """Attempts of the current series: "Send again" starts a new one, and SMS_MAX_ATTEMPTS
    limits each on its own, so the count restarts; the page says so, with when and how often,
    rather than showing a bare "1" after several failed attempts."""
    resends = [e.created_at for e in events if e.description.startswith(RETRY_EVENT)]
    return Attempts(message.attempts, len(resends), max(resends) if resends else None)


def message_id(text: str) -> int | None:
    """The message id `text` spells, or None if it cannot be one (a word, 0, past 64 bits)."""
    text = text.strip()
    if not _ID.fullmatch(text):
        return None
    pk = int(text)
    return pk if 0 < pk <= MAX_MESSAGE_ID else None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# Columns `distinct_message_values` may read: each has an index that starts with it, which the
# skip scan below needs (without one it would scan the table once per value).
_DISTINCT_COLUMNS = {"from_number": "from_number", "created_by": "created_by_id"}


def distinct_message_values(field: str) -> list[Any]:
    """The distinct non-null values of `field` over every text, in order, for the admin's
    filters. SELECT DISTINCT reads the whole table (200 ms at a million texts); PostgreSQL has
    no skip scan, so this walks the column's index one value at a time (a recursive query):
    a handful of senders cost a handful of index probes, whatever the table's size. (MIN with
    a lower bound is one index probe in PostgreSQL, and the query also runs on SQLite.)"""
    column = _DISTINCT_COLUMNS[field]
    table = Message._meta.db_table
    # Both names come from this module (the dict above, the model), never from a request.
    sql = f"""
        WITH RECURSIVE seen(value) AS (
            SELECT MIN({column}) FROM {table}
            UNION ALL
            SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > seen.value)
            FROM seen WHERE seen.value IS NOT NULL
        )
        SELECT value FROM seen WHERE value IS NOT NULL
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]
