"""The webhook subscription against the simulator, which really calls this app's endpoint (a
live server): the handshake, notifications stored once when delivered twice, a wrong token
refused, blacklisting noticed and the subscription replaced, polling meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Conversation, InboundText, WebhookSubscription
from conversations.services.sync import message_sync_run
from conversations.services.webhooks import subscription_maintain, webhook_state
from tests.support.processes import wait_until

THEIRS = "+16505550199"


@pytest.fixture
def webhooks(sms_settings, live_server):
    sms_settings.RINGCENTRAL_WEBHOOK_URL = f"{live_server.url}/ringcentral/webhook"
    return sms_settings


def notifications(simulator) -> list[dict]:
    return [d for d in simulator.webhook_deliveries() if d.get("kind") != "validation"]


def test_the_subscription_is_created_through_the_real_handshake(webhooks, simulator):
    assert subscription_maintain() == "created"
    row = WebhookSubscription.objects.get()
    [listed] = simulator.subscriptions()
    assert row.subscription_id == str(listed["id"])
    assert row.status == "Active"
    assert webhook_state().active


def test_a_notification_delivered_twice_stores_the_reply_once(webhooks, simulator):
    subscription_maintain()
    simulator.inbound(THEIRS, "See you at 3", deliveries=2)
    wait_until(lambda: len(notifications(simulator)) >= 2, 10, "two notifications")
    wait_until(lambda: InboundText.objects.exists(), 10, "the reply stored")
    assert len({n.get("uuid") for n in notifications(simulator)}) == 1  # the same one twice
    assert [n.get("status") for n in notifications(simulator)] == [200, 200]
    text = InboundText.objects.get()
    assert (text.text, text.via) == ("See you at 3", "webhook")
    assert Conversation.objects.get().unread_count == 1
    # and the sync that later sees the same text stores nothing new
    assert message_sync_run().stored == 0
    assert InboundText.objects.count() == 1


def test_an_address_that_fails_the_handshake_leaves_replies_to_polling_and_says_why(
    webhooks, live_server, simulator
):
    webhooks.RINGCENTRAL_WEBHOOK_URL = f"{live_server.url}/not-the-webhook"
    assert subscription_maintain().startswith("create refused")
    state = webhook_state()
    assert not state.active
    assert "SUB-525" in state.detail
    assert "Validation-Token" in state.detail
    simulator.inbound(THEIRS, "anyone there?")
    assert message_sync_run().stored == 1


def test_a_blacklisted_subscription_is_replaced_and_the_sync_brings_what_it_missed(
    webhooks, simulator
):
    subscription_maintain()
    first_id = WebhookSubscription.objects.get().subscription_id
    # Our endpoint now refuses RingCentral's token (as if someone rotated it wrongly), so
    # every delivery fails and RingCentral blacklists the subscription.
    WebhookSubscription.objects.update(token_digest="0" * 64)
    simulator.configure(webhook_retries=0)
    for n in range(3):
        simulator.inbound(THEIRS, f"missed {n}")
    wait_until(
        lambda: any(s["status"] == "Blacklisted" for s in simulator.subscriptions()),
        15,
        "the subscription blacklisted",
    )
    assert not InboundText.objects.exists()
    WebhookSubscription.objects.update(checked_at=timezone.now() - timedelta(minutes=10))
    assert subscription_maintain() == "created"  # its status read, found blacklisted
    row = WebhookSubscription.objects.get()
    assert row.subscription_id != first_id
    assert row.status == "Active"
    assert message_sync_run().stored == 3


def test_the_subscription_is_renewed_before_it_ends(webhooks, simulator):
    webhooks.RINGCENTRAL_WEBHOOK_EXPIRES_IN = 90
    subscription_maintain()
    row = WebhookSubscription.objects.get()
    before = row.expires_at
    # Renewal is due a third of the lifetime before the end (30 s here).
    later = timezone.now() + timedelta(seconds=65)
    simulator.advance_clock(65)
    assert subscription_maintain(now=later) == "renewed"
    row.refresh_from_db()
    assert row.expires_at > before
    assert row.subscription_id == str(simulator.subscriptions()[0]["id"])


def test_emptying_the_setting_deletes_the_subscription(webhooks, simulator):
    subscription_maintain()
    webhooks.RINGCENTRAL_WEBHOOK_URL = ""
    assert subscription_maintain() == "webhooks off"
    assert simulator.subscriptions() == []
    assert not WebhookSubscription.objects.exists()


def test_an_expired_subscription_is_created_again(webhooks, simulator):
    webhooks.RINGCENTRAL_WEBHOOK_EXPIRES_IN = 90
    subscription_maintain()
    first_id = WebhookSubscription.objects.get().subscription_id
    simulator.advance_clock(100)  # beat was down past the end of its life
    later = timezone.now() + timedelta(seconds=100)
    assert not webhook_state(now=later).active
    assert "expired" in webhook_state(now=later).detail
    assert subscription_maintain(now=later) == "created"
    row = WebhookSubscription.objects.get()
    assert row.subscription_id != first_id
    alive = [str(s["id"]) for s in simulator.subscriptions() if s.get("alive")]
    assert alive == [row.subscription_id]


def test_healthz_says_replies_come_by_polling_while_the_webhook_is_blacklisted(
    webhooks, client, simulator
):
    subscription_maintain()
    assert client.get("/healthz").json()["inbound"]["mode"] == "webhook"
    WebhookSubscription.objects.update(status="Blacklisted")
    inbound = client.get("/healthz").json()["inbound"]
    assert inbound["mode"] == "polling"
    assert "blacklisted" in inbound["detail"]
