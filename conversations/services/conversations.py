"""Conversation rows: created and moved to the top as texts go out and come in; read marks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from conversations.models import Conversation, InboundText
from smsapp.models import Message

SNIPPET_LENGTH = 200


def conversations_note_outbound(*, messages: Iterable[Message]) -> None:
    """Moves each text's conversation to the top with its words, creating it if new. Called
    from smsapp's messages_created signal, inside the transaction that created the texts: one
    INSERT ... ON CONFLICT DO UPDATE for all of them, no network."""
    latest: dict[tuple[str, str], Message] = {}
    for message in messages:
        latest[(message.from_number, message.to_number)] = message
    if not latest:
        return
    Conversation.objects.bulk_create(
        [
            Conversation(
                our_number=ours,
                their_number=theirs,
                last_activity_at=message.created_at or timezone.now(),
                last_text=message.text[:SNIPPET_LENGTH],
                last_direction=Conversation.Direction.OUTBOUND,
            )
            for (ours, theirs), message in sorted(latest.items())
        ],
        update_conflicts=True,
        unique_fields=("our_number", "their_number"),
        update_fields=("last_activity_at", "last_text", "last_direction"),
    )


def conversation_note_inbound(
    *, our_number: str, their_number: str, text: str, received_at: datetime
) -> Conversation:
    """The pair's conversation, locked, with one more unread text. A text that arrives late
    (an old one found by a full sync) counts as unread but does not move the conversation
    back in time."""
    conversation, _ = Conversation.objects.select_for_update().get_or_create(
        our_number=our_number,
        their_number=their_number,
        defaults={
            "last_activity_at": received_at,
            "last_text": text[:SNIPPET_LENGTH],
            "last_direction": Conversation.Direction.INBOUND,
        },
    )
    changes: dict[str, object] = {"unread_count": F("unread_count") + 1}
    if received_at >= conversation.last_activity_at:
        changes |= {
            "last_activity_at": received_at,
            "last_text": text[:SNIPPET_LENGTH],
            "last_direction": Conversation.Direction.INBOUND,
        }
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    return conversation


def conversation_mark_read(*, conversation: Conversation) -> int:
    """Marks its inbound texts read; returns how many were unread."""
    now = timezone.now()
    with transaction.atomic():
        marked = InboundText.objects.filter(conversation=conversation, read_at=None).update(
            read_at=now
        )
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
    return marked


def conversation_for(*, our_number: str, their_number: str) -> Conversation:
    """The pair's conversation, created empty if no text has gone either way yet (a link
    from an older text, or a number typed by hand)."""
    conversation, _ = Conversation.objects.get_or_create(
        our_number=our_number,
        their_number=their_number,
        defaults={"last_activity_at": timezone.now(), "last_direction": "out"},
    )
    return conversation
