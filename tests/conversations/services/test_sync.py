"""Polling RingCentral's message sync (FSync, then ISync; MSG-333 starts over) against the
simulator: every reply stored once although windows overlap, outbound statuses applied."""

from __future__ import annotations

import pytest

from conversations.models import Conversation, InboundText, MessageSyncState
from conversations.services.sync import message_sync_run
from smsapp.models import Message
from tests.support.texts import sent

THEIRS = "+16505550199"


@pytest.fixture
def syncing(sms_settings, db):
    return sms_settings


def test_a_reply_is_stored_once_although_the_next_sync_window_repeats_it(syncing, simulator):
    simulator.inbound(THEIRS, "Running 5 minutes late")
    first = message_sync_run()
    second = message_sync_run()  # an ISync within 5 s: the windows overlap
    assert (first.full, first.stored) == (True, 1)
    assert second.full is False
    assert second.records >= 1, "the overlap should have repeated the reply"
    assert second.stored == 0
    text = InboundText.objects.get()
    assert (text.from_number, text.text, text.via) == (THEIRS, "Running 5 minutes late", "sync")
    assert Conversation.objects.get().unread_count == 1


def test_replies_between_syncs_arrive_with_the_next_incremental_sync(syncing, simulator):
    message_sync_run()
    simulator.inbound(THEIRS, "one")
    simulator.inbound("+16505550198", "two")
    result = message_sync_run()
    assert (result.full, result.stored) == (False, 2)
    assert sorted(InboundText.objects.values_list("text", flat=True)) == ["one", "two"]


def test_a_refused_sync_token_starts_a_full_sync_that_loses_and_repeats_nothing(syncing, simulator):
    simulator.inbound(THEIRS, "before")
    message_sync_run()
    simulator.inbound(THEIRS, "while the token was refused")
    simulator.reset_sync()  # the next ISync answers 400 MSG-333
    result = message_sync_run()
    assert (result.full, result.stored) == (True, 1)
    assert sorted(InboundText.objects.values_list("text", flat=True)) == [
        "before",
        "while the token was refused",
    ]
    assert MessageSyncState.objects.get().full_syncs == 2


def test_outbound_status_changes_seen_in_the_sync_update_our_texts(syncing, simulator):
    simulator.configure(sent_after_seconds=0.0, delivered_after_seconds=0.0)
    message = sent(THEIRS)
    result = message_sync_run()
    message.refresh_from_db()
    assert result.statuses == 1
    assert message.status == Message.Status.DELIVERED


def test_a_sync_that_fails_records_why_and_keeps_its_token(syncing, simulator):
    message_sync_run()
    token = MessageSyncState.objects.get().sync_token
    simulator.inject_fault("error", group="Light", status=500)
    result = message_sync_run()
    state = MessageSyncState.objects.get()
    assert result.stored == 0
    assert "500" in state.last_error
    assert state.sync_token == token
