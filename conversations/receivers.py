"""Keeps conversations current as smsapp creates texts (smsapp never imports this app)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from conversations.services.conversations import conversations_note_outbound
from smsapp.signals import messages_created


@receiver(messages_created, dispatch_uid="conversations.note_outbound")
def _note_outbound(sender: Any, messages: list[Any], **kwargs: Any) -> None:
    conversations_note_outbound(messages=messages)
