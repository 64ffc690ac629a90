"""The one inbound pipeline: webhook bodies and message-sync records both end here."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from conversations.keywords import keyword_of
from conversations.models import InboundText
from conversations.records import inbound_record, is_inbound_sms
from conversations.services.conversations import conversation_note_inbound
from smsapp.services import optouts

logger = logging.getLogger(__name__)


def inbound_store(*, records: Iterable[dict[str, Any]], via: str) -> list[InboundText]:
    """Stores each inbound SMS record once (its RingCentral id is unique), links it to its
    conversation and applies an opt-out or opt-in keyword, all in one transaction per text:
    the opt-out is in force before anyone can see the text, and a keyword is never applied
    twice. Returns the texts that were new; a record seen before (a repeated notification,
    the sync's overlap, both paths at once) changes nothing."""
    stored = []
    for record in records:
        if not is_inbound_sms(record):
            continue
        parsed = inbound_record(record)
        if parsed is None:
            logger.warning("inbound record without an id or a sender, skipped")
            continue
        if InboundText.objects.filter(ringcentral_id=parsed.ringcentral_id).exists():
            continue  # the common repeat, answered without a write
        try:
            with transaction.atomic():
                conversation = conversation_note_inbound(
                    our_number=parsed.to_number,
                    their_number=parsed.from_number,
                    text=parsed.text,
                    received_at=parsed.received_at,
                )
                keyword = keyword_of(parsed.text)
                text = InboundText.objects.create(
                    ringcentral_id=parsed.ringcentral_id,
                    conversation=conversation,
                    from_number=parsed.from_number,
                    to_number=parsed.to_number,
                    text=parsed.text,
                    received_at=parsed.received_at,
                    via=via,
                    keyword=keyword,
                )
                _apply_keyword(text)
        except IntegrityError:
            # The other path stored the same id a moment ago: the unique index made this one
            # wait and then refused it, and its conversation count rolled back with it.
            continue
        stored.append(text)
    return stored


def _apply_keyword(text: InboundText) -> None:
    pair = {"our_number": text.to_number, "their_number": text.from_number}
    cause = {"inbound_id": text.ringcentral_id, "inbound_text": text.text[:200]}
    if text.keyword == InboundText.Keyword.OPT_OUT:
        optouts.optout_add(
            **pair, source="keyword", reason=f"texted “{text.text.strip()}”", **cause
        )
    elif text.keyword == InboundText.Keyword.OPT_IN:
        optouts.optout_remove(
            **pair, source="keyword", reason=f"texted “{text.text.strip()}”", **cause
        )
