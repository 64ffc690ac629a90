"""The inbound pipeline: each RingCentral id stored once, in its conversation, keywords applied."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from conversations.models import Conversation, InboundText
from conversations.services import conversations as conversation_services
from conversations.services.inbound import inbound_store
from smsapp.models import Message, OptOut, OptOutChange

OURS = "+16505550100"
THEIRS = "+16505550199"


def record(
    rc_id: str, text: str = "Running late", *, sender: str = THEIRS, minute: int = 0
) -> dict:
    """An inbound record as the message store and the sync render it (numbers without "+",
    as the definitions allow)."""
    return {
        "id": int(rc_id),
        "type": "SMS",
        "direction": "Inbound",
        "messageStatus": "Received",
        "from": {"phoneNumber": sender.lstrip("+")},
        "to": [{"phoneNumber": OURS}],
        "subject": text,
        "creationTime": f"2026-11-30T14:{minute:02d}:00.000Z",
    }


@pytest.fixture
def pair(settings):
    settings.SMS_FROM_NUMBER = OURS
    settings.SMS_DEFAULT_REGION = "US"


def test_a_reply_is_stored_once_in_its_conversation_however_often_it_is_reported(db, pair):
    first = inbound_store(records=[record("101")], via="webhook")
    again = inbound_store(records=[record("101"), record("101")], via="sync")
    assert [t.ringcentral_id for t in first] == ["101"]
    assert again == []
    text = InboundText.objects.get()
    conversation = Conversation.objects.get()
    assert (conversation.our_number, conversation.their_number) == (OURS, THEIRS)
    assert (text.conversation, text.via, text.text) == (conversation, "webhook", "Running late")
    assert conversation.unread_count == 1
    assert (conversation.last_text, conversation.last_direction) == ("Running late", "in")


def test_outbound_and_fax_records_are_not_stored_as_replies(db, pair):
    outbound = {**record("102"), "direction": "Outbound"}
    fax = {**record("103"), "type": "Fax"}
    assert inbound_store(records=[outbound, fax], via="sync") == []
    assert not InboundText.objects.exists()


def test_an_older_reply_found_late_counts_as_unread_but_does_not_move_the_conversation_back(
    db, pair
):
    inbound_store(records=[record("110", "newer", minute=30)], via="webhook")
    inbound_store(records=[record("109", "older", minute=10)], via="sync")
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 2
    assert conversation.last_text == "newer"
    assert conversation.last_activity_at == datetime(2026, 11, 30, 14, 30, tzinfo=UTC)


def test_stop_opts_the_pair_out_and_start_opts_it_back_in(db, pair):
    inbound_store(records=[record("120", " Stop. ")], via="sync")
    opt_out = OptOut.objects.get()
    assert (opt_out.our_number, opt_out.their_number, opt_out.source) == (OURS, THEIRS, "keyword")
    assert (opt_out.inbound_id, opt_out.inbound_text) == ("120", " Stop. ")
    assert InboundText.objects.get().keyword == InboundText.Keyword.OPT_OUT

    inbound_store(records=[record("121", "START")], via="sync")
    assert not OptOut.objects.exists()
    assert list(OptOutChange.objects.order_by("id").values_list("action", flat=True)) == [
        "opted_out",
        "opted_in",
    ]


def test_stop_reported_twice_is_applied_once(db, pair):
    inbound_store(records=[record("130", "STOP")], via="webhook")
    inbound_store(records=[record("130", "STOP")], via="sync")
    assert OptOutChange.objects.count() == 1


def test_stop_cancels_the_texts_scheduled_for_that_number(db, pair):
    scheduled = Message.objects.create(
        to_number=THEIRS,
        from_number=OURS,
        text="Reminder",
        status=Message.Status.SCHEDULED,
        send_at=datetime(2099, 1, 1, tzinfo=UTC),
    )
    inbound_store(records=[record("140", "unsubscribe")], via="sync")
    scheduled.refresh_from_db()
    assert scheduled.status == Message.Status.CANCELED
    assert "opted out" in scheduled.events.last().description


@pytest.mark.django_db(transaction=True)
def test_the_webhook_and_the_sync_storing_the_same_reply_at_once_store_it_once(pair, monkeypatch):
    """Both paths get past the "seen before?" look before either writes (a barrier holds
    them there): the unique id and the conversation's row lock must keep it to one text,
    one unread count and one opt-out. Without them this stores two."""
    barrier = threading.Barrier(2, timeout=10)
    real = conversation_services.conversation_note_inbound

    def both_at_once(**kwargs):
        barrier.wait()
        return real(**kwargs)

    monkeypatch.setattr("conversations.services.inbound.conversation_note_inbound", both_at_once)
    stored: list[list[InboundText]] = []
    errors: list[BaseException] = []

    def store(via: str) -> None:
        try:
            stored.append(inbound_store(records=[record("150", "STOP")], via=via))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=store, args=(via,)) for via in ("webhook", "sync")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert sorted(len(s) for s in stored) == [0, 1]
    assert InboundText.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1
    assert OptOutChange.objects.count() == 1
