"""Reads for the conversation pages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from conversations.models import Conversation, InboundText, MessageSyncState
from conversations.services.webhooks import webhook_state
from smsapp import selectors as message_selectors
from smsapp.models import Message

# A thread shows its latest texts; older ones are in the history (filtered by the number).
THREAD_LENGTH = 50


@dataclass(frozen=True)
class ThreadItem:
    inbound: bool
    at: datetime
    text: str
    message: Message | None = None  # outbound: the text, for its status and link
    status_label: str = ""
    keyword: str = ""


def conversation_list() -> QuerySet[Conversation]:
    return Conversation.objects.order_by("-last_activity_at", "-id")


def thread(conversation: Conversation) -> list[ThreadItem]:
    """The latest texts both ways, oldest first (read top to bottom, the newest by the reply
    box). Two index reads of THREAD_LENGTH each (sms_history_by_recipient, inbound_thread)."""
    outbound = list(
        Message.objects.filter(
            to_number=conversation.their_number, from_number=conversation.our_number
        ).order_by("-created_at", "-id")[:THREAD_LENGTH]
    )
    inbound = list(
        InboundText.objects.filter(conversation=conversation).order_by("-received_at", "-id")[
            :THREAD_LENGTH
        ]
    )
    items = [
        ThreadItem(
            inbound=False,
            at=m.created_at,
            text=m.text,
            message=m,
            status_label=message_selectors.status_label(m),
        )
        for m in outbound
    ] + [
        ThreadItem(
            inbound=True,
            at=t.received_at,
            text=t.text,
            keyword=t.get_keyword_display() if t.keyword else "",
        )
        for t in inbound
    ]
    items.sort(key=lambda item: item.at)
    return items[-THREAD_LENGTH:]


def thread_version(items: list[ThreadItem]) -> str:
    """Changes when a text arrives, goes out or changes status: the live thread redraws
    only then (and keeps the reader's scroll position otherwise)."""
    parts = [
        f"o{i.message.pk}:{i.message.status}" if i.message else f"i{i.at.timestamp()}"
        for i in items
    ]
    # A digest, not hash(): that differs between web processes, and would redraw every time.
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def list_version(rows: list[Conversation], opted_out: set[str]) -> str:
    """Changes when a row of the page would look different: the live list redraws then."""
    parts = [
        f"{c.pk}:{c.last_activity_at.timestamp()}:{c.unread_count}:{c.their_number in opted_out}"
        for c in rows
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def inbound_health() -> dict[str, object]:
    """How replies arrive, for /healthz: "webhook", or "polling" with why (webhooks off, or
    the subscription blacklisted or expired: the sync then carries every reply)."""
    state = webhook_state()
    sync = MessageSyncState.objects.filter(pk=1).first()
    return {
        "mode": "webhook" if state.active else "polling",
        "webhook_configured": state.configured,
        "detail": state.detail,
        "last_sync": sync.last_success_at.isoformat() if sync and sync.last_success_at else None,
        "last_sync_error": sync.last_error if sync else "",
    }
