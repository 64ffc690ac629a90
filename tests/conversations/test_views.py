"""Conversation pages: the list, the thread with its live fragment, the reply box, read marks,
and RingCentral's webhook endpoint (handshake, verification token)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation, InboundText, WebhookSubscription
from conversations.services.inbound import inbound_store
from conversations.services.webhooks import _digest
from smsapp.models import Message
from smsapp.services.messages import message_create
from smsapp.services.optouts import optout_add
from tests.support.pages import page_text
from tests.support.texts import queued_send_tasks

OURS = "+16505550100"
THEIRS = "+16505550199"


def reply_from(rc_id: str, text: str, number: str = THEIRS) -> list[InboundText]:
    body = {
        "id": rc_id,
        "type": "SMS",
        "direction": "Inbound",
        "from": {"phoneNumber": number},
        "to": [{"phoneNumber": OURS, "target": True}],
        "subject": text,
        "creationTime": timezone.now().isoformat(),
    }
    return inbound_store(records=[body], via="webhook")


@pytest.fixture
def ours(sms_settings):
    sms_settings.SMS_FROM_NUMBER = OURS
    return sms_settings


def test_a_text_sent_from_compose_starts_a_conversation_with_its_words(sender_client, ours):
    message_create(to_numbers=[THEIRS], text="Your table is ready")
    conversation = Conversation.objects.get()
    assert (conversation.our_number, conversation.their_number) == (OURS, THEIRS)
    assert (conversation.last_text, conversation.last_direction) == ("Your table is ready", "out")
    page = page_text(sender_client.get(reverse("conversations:list")))
    assert THEIRS in page
    assert "You sent: Your table is ready" in page


def test_the_list_shows_the_newest_conversation_first_with_its_unread_count(sender_client, ours):
    message_create(to_numbers=["+16505550111"], text="First")
    reply_from("9001", "Thanks!")
    reply_from("9002", "See you then")
    page = page_text(sender_client.get(reverse("conversations:list")))
    assert page.index(THEIRS) < page.index("+16505550111")
    assert "2 new" in page
    assert "They wrote: See you then" in page


def test_opening_a_thread_shows_both_directions_in_order_and_marks_it_read(sender_client, ours):
    message_create(to_numbers=[THEIRS], text="Are you coming at 3?")
    reply_from("9010", "Yes, see you")
    conversation = Conversation.objects.get()
    response = sender_client.get(reverse("conversations:thread", args=[conversation.pk]))
    page = page_text(response)
    assert page.index("Are you coming at 3?") < page.index("Yes, see you")
    assert "queued" in page  # the outbound text's status
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert InboundText.objects.get().read_at is not None


def test_mark_as_read_from_the_list(sender_client, ours):
    reply_from("9020", "Hello?")
    conversation = Conversation.objects.get()
    sender_client.post(reverse("conversations:read", args=[conversation.pk]))
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_the_live_fragment_changes_version_only_when_the_thread_changes(sender_client, ours):
    reply_from("9030", "One")
    conversation = Conversation.objects.get()
    live = reverse("conversations:live", args=[conversation.pk])
    first = sender_client.get(live).content.decode()
    assert sender_client.get(live).content.decode() == first
    reply_from("9031", "Two")
    second = sender_client.get(live).content.decode()
    assert "Two" in second
    assert second != first
    conversation.refresh_from_db()
    assert conversation.unread_count == 2  # polled while not in front of anyone: still unread
    sender_client.get(f"{live}?visible=1")
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_a_reply_goes_through_the_normal_send_path_once_even_if_posted_twice(
    sender_client, ours, django_capture_on_commit_callbacks
):
    reply_from("9040", "Can I move my appointment?")
    conversation = Conversation.objects.get()
    thread = reverse("conversations:thread", args=[conversation.pk])
    form = {"text": "Yes: Thursday at 10?", "submission_key": "k" * 22}
    with django_capture_on_commit_callbacks(execute=True):
        first = sender_client.post(thread, form)
        second = sender_client.post(thread, form)
    assert first.status_code == second.status_code == 302
    message = Message.objects.get()
    assert (message.to_number, message.from_number, message.text) == (
        THEIRS,
        OURS,
        "Yes: Thursday at 10?",
    )
    assert message.status == Message.Status.QUEUED
    assert [t["args"] for t in queued_send_tasks(ours)] == [[message.pk]]


def test_an_empty_or_too_long_reply_gets_an_error_beside_the_box_and_sends_nothing(
    sender_client, ours
):
    reply_from("9050", "Hi")
    thread = reverse("conversations:thread", args=[Conversation.objects.get().pk])
    empty = sender_client.post(thread, {"text": ""})
    assert "Write the reply before sending it." in page_text(empty)
    too_long = sender_client.post(thread, {"text": "😀" * 501})
    assert too_long.status_code == 200
    assert 'class="field has-error"' in too_long.content.decode()
    assert not Message.objects.exists()


def test_a_reply_to_an_opted_out_number_is_refused_and_nothing_is_created(sender_client, ours):
    reply_from("9060", "Hi")
    conversation = Conversation.objects.get()
    thread = reverse("conversations:thread", args=[conversation.pk])
    optout_add(our_number=OURS, their_number=THEIRS, source="staff", reason="asked by phone")
    shown = page_text(sender_client.get(thread))
    assert "opted out" in shown
    assert "Send reply" not in shown
    refused = sender_client.post(thread, {"text": "Are you sure?"})
    assert refused.status_code == 200
    assert THEIRS in page_text(refused)
    assert not Message.objects.exists()


def test_the_history_and_detail_link_a_recipient_to_the_conversation(sender_client, ours):
    message = message_create(to_numbers=[THEIRS], text="Hello")[0]
    link = reverse("conversations:with", args=[THEIRS])
    assert link in sender_client.get(reverse("smsapp:history")).content.decode()
    assert link in sender_client.get(reverse("smsapp:detail", args=[message.pk])).content.decode()
    landed = sender_client.get(link)
    assert landed.url == reverse("conversations:thread", args=[Conversation.objects.get().pk])


def test_a_link_with_something_that_is_not_a_number_says_so(sender_client, ours):
    response = sender_client.get(reverse("conversations:with", args=["hello"]), follow=True)
    assert "“hello” is not a phone number." in page_text(response)
    assert not Conversation.objects.exists()


def test_conversations_need_the_send_permission(client, django_user_model, ours):
    user = django_user_model.objects.create_user("viewer", password="a-long-test-password")
    client.force_login(user)
    assert client.get(reverse("conversations:list")).status_code == 403


# -- the webhook endpoint ----------------------------------------------------------------------


def test_the_handshake_echoes_the_validation_token(client, db):
    response = client.post(
        reverse("ringcentral-webhook"), data=b"", content_type="", HTTP_VALIDATION_TOKEN="abc-123"
    )
    assert response.status_code == 200
    assert response["Validation-Token"] == "abc-123"


def test_a_handshake_token_that_could_split_the_header_is_refused(client, db):
    response = client.post(
        reverse("ringcentral-webhook"), data=b"", content_type="", HTTP_VALIDATION_TOKEN="a\tb c"
    )
    assert response.status_code == 400
    assert "Validation-Token" not in response


def _notification(uuid: str, rc_id: str, text: str) -> bytes:
    return json.dumps(
        {
            "uuid": uuid,
            "event": "/restapi/v1.0/account/1/extension/2/message-store/instant?type=SMS",
            "body": {
                "id": rc_id,
                "type": "SMS",
                "direction": "Inbound",
                "messageStatus": "Received",
                "from": {"phoneNumber": THEIRS},
                "to": [{"phoneNumber": OURS, "target": True}],
                "subject": text,
                "creationTime": "2026-11-30T14:00:00.000Z",
            },
        }
    ).encode()


@pytest.mark.parametrize("header", ["HTTP_VERIFICATION_TOKEN", "HTTP_VALIDATION_TOKEN"])
def test_a_notification_with_our_token_is_stored_once_under_either_header_name(
    client, ours, db, header
):
    WebhookSubscription.objects.create(
        pk=1, address="https://x.test/hook", token_digest=_digest("s3cret")
    )
    url = reverse("ringcentral-webhook")
    body = _notification("uuid-1", "777", "On my way")
    for _ in range(2):  # the same notification delivered twice
        response = client.post(
            url, data=body, content_type="application/json", **{header: "s3cret"}
        )
        assert response.status_code == 200
    # and the same text in a new notification (another uuid)
    client.post(
        url,
        data=_notification("uuid-2", "777", "On my way"),
        content_type="application/json",
        **{header: "s3cret"},
    )
    assert InboundText.objects.get().text == "On my way"
    assert Conversation.objects.get().unread_count == 1


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_a_notification_without_our_token_is_refused_and_stores_nothing(client, ours, db, token):
    WebhookSubscription.objects.create(
        pk=1, address="https://x.test/hook", token_digest=_digest("s3cret")
    )
    headers = {} if token is None else {"HTTP_VERIFICATION_TOKEN": token}
    response = client.post(
        reverse("ringcentral-webhook"),
        data=_notification("uuid-3", "778", "STOP"),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 403
    assert not InboundText.objects.exists()


def test_a_notification_that_is_not_json_is_a_400_not_a_500(client, ours, db):
    WebhookSubscription.objects.create(
        pk=1, address="https://x.test/hook", token_digest=_digest("s3cret")
    )
    response = client.post(
        reverse("ringcentral-webhook"),
        data=b"\xff{not json",
        content_type="application/json",
        HTTP_VERIFICATION_TOKEN="s3cret",
    )
    assert response.status_code == 400


def test_the_live_list_follows_new_replies_and_marks_opted_out_contacts(sender_client, ours):
    message_create(to_numbers=[THEIRS], text="Hello")
    live = reverse("conversations:list-live")
    before = sender_client.get(live).content.decode()
    assert sender_client.get(live).content.decode() == before  # nothing new, same version
    reply_from("9070", "STOP")
    after = sender_client.get(live).content.decode()
    assert "They wrote: STOP" in page_text(sender_client.get(live))
    assert "1 new" in after
    assert "opted out" in after
    assert after != before
