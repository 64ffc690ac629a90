"""Two-way texting with real workers and beat against the simulator: a reply typed into the
simulator's inbox appears in the conversation page without a reload (a real browser), the
answer goes out through the pipeline; STOP makes the next send a form error with no request
to RingCentral, START allows it again; webhook and polling together store a reply once."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conversations.models import Conversation, InboundText, MessageSyncState, WebhookSubscription
from smsapp.models import Message, OptOut
from smsapp.services import messages as message_services
from tests.end_to_end.test_browser import PASSWORD, sign_in
from tests.support.pages import field_errors
from tests.support.processes import process_env, running, start_beat, start_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
THEIRS = "+16505550199"


@pytest.fixture
def inbound_fleet(sms_settings):
    """Quick beat: the sync every second (a reply shows within about that)."""
    sms_settings.INBOUND_SYNC_INTERVAL = 1.0
    sms_settings.INBOUND_SYNC_INTERVAL_WITH_WEBHOOK = 1.0
    sms_settings.INBOUND_WEBHOOK_CHECK_INTERVAL = 1.0
    return sms_settings


@pytest.fixture
def pat(django_user_model, staff_senders):
    user = django_user_model.objects.create_user("pat", password=PASSWORD)
    user.groups.add(staff_senders)
    return user


def reply_as_customer(inbox, to_text: str, words: str) -> None:
    """Type `words` into the inbox's Reply box of the text that reads `to_text`."""
    inbox.goto(inbox.url)
    row = inbox.locator("tr", has_text=to_text).first
    row.locator("input[name=text]").fill(words)
    row.get_by_role("button", name="Reply").click()


def sim_posts(simulator) -> int:
    return len(simulator.messages())  # texts RingCentral accepted from the app


def test_a_reply_from_the_simulators_inbox_shows_live_and_is_answered_from_the_thread(
    chromium, live_server, pat, inbound_fleet, simulator, tmp_path
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    env = process_env(inbound_fleet)
    with running(start_worker(env, tmp_path), start_beat(env, tmp_path)):
        [first] = message_services.message_create(
            to_numbers=[THEIRS], text="Your order is ready for pickup", created_by=pat
        )
        wait_until(lambda: sim_posts(simulator) == 1, 30, "the first text sent")
        conversation = Conversation.objects.get(their_number=THEIRS)

        page = chromium.new_page(viewport={"width": 1100, "height": 850})
        page.set_default_timeout(20_000)
        sign_in(page, live_server, "pat")
        page.goto(f"{live_server.url}{reverse('conversations:list')}")
        row = page.locator(".conversation", has_text=THEIRS)
        expect(row).to_contain_text("You sent: Your order is ready")
        page.evaluate("window.__notReloaded = true")

        # The customer answers from the simulator's inbox page, in another tab (a phone).
        inbox = chromium.new_page(viewport={"width": 390, "height": 844})
        inbox.goto(simulator.url + "/")
        reply_as_customer(inbox, "Your order is ready for pickup", "Great, I'll come by at 5")
        inbox.screenshot(path=str(SCREENSHOTS / "simulator-inbox-reply.png"), full_page=True)

        # The list shows it without a reload: the words and an unread count.
        expect(row).to_contain_text("They wrote: Great, I'll come by at 5", timeout=20_000)
        expect(row.locator(".badge")).to_have_text("1 new")
        assert page.evaluate("window.__notReloaded === true"), "the list was reloaded"
        page.screenshot(path=str(SCREENSHOTS / "conversations-list-live.png"), full_page=True)

        row.get_by_role("link").click()
        expect(page.locator(".bubble.inbound")).to_contain_text("Great, I'll come by at 5")
        page.evaluate("window.__notReloaded = true")
        reply_as_customer(inbox, "Your order is ready for pickup", "Is the side door open?")
        arrived = page.locator(".bubble.inbound", has_text="Is the side door open?")
        expect(arrived).to_be_visible(timeout=20_000)
        assert page.evaluate("window.__notReloaded === true"), "the thread was reloaded"
        page.screenshot(path=str(SCREENSHOTS / "conversation-reply-arrived.png"), full_page=True)
        assert set(InboundText.objects.values_list("via", flat=True)) == {"sync"}
        conversation.refresh_from_db()
        assert conversation.unread_count == 0  # read where it arrived, in front of pat

        # Answered from the thread: the normal pipeline (a queued text, sent by the worker).
        page.get_by_label("Reply").fill("See you at 5!")
        page.get_by_role("button", name="Send reply").click()
        expect(page.locator(".bubble.outbound", has_text="See you at 5!")).to_be_visible()
        wait_until(lambda: sim_posts(simulator) == 2, 30, "the answer sent")
        answer = Message.objects.exclude(pk=first.pk).get()
        assert (answer.to_number, answer.created_by) == (THEIRS, pat)
        assert simulator.messages()[0]["subject"] == "See you at 5!"
        expect(page.locator(f'[data-status-for="{answer.pk}"]')).to_have_text(
            "delivered", timeout=30_000
        )

        # At a phone's width the thread and the reply box fit without sideways scrolling.
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SCREENSHOTS / "conversation-phone.png"), full_page=True)


def test_stop_makes_the_next_send_a_form_error_without_asking_ringcentral_and_start_allows_it(
    client: Client, pat, inbound_fleet, simulator, tmp_path
):
    env = process_env(inbound_fleet)
    client.force_login(pat)
    compose = reverse("smsapp:compose")
    later = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    with running(start_worker(env, tmp_path), start_beat(env, tmp_path)):
        client.post(compose, {"to": THEIRS, "text": "Reminder", "send_at": later})
        scheduled = Message.objects.get()
        simulator.inbound(THEIRS, " Stop. ")
        wait_until(lambda: OptOut.objects.filter(their_number=THEIRS).exists(), 30, "the opt-out")

        scheduled.refresh_from_db()
        assert scheduled.status == Message.Status.CANCELED
        assert "opted out" in scheduled.events.last().description

        # POST /sms is RingCentral's Medium group; beat's own reads (sync, status) are Light.
        medium_before = simulator.counters()["requests"].get("Medium", 0)
        refused = client.post(compose, {"to": f"{THEIRS}, +16505550188", "text": "Hello"})
        assert refused.status_code == 200
        assert THEIRS in field_errors(refused, "to")
        assert Message.objects.count() == 1  # nothing for either number
        time.sleep(1.5)  # a worker that got something would have asked RingCentral by now
        assert simulator.counters()["requests"].get("Medium", 0) == medium_before
        assert sim_posts(simulator) == 0

        simulator.inbound(THEIRS, "START")
        wait_until(
            lambda: not OptOut.objects.filter(their_number=THEIRS).exists(), 30, "the opt-in"
        )
        sent = client.post(compose, {"to": THEIRS, "text": "Welcome back"})
        assert sent.status_code == 302
        wait_until(lambda: sim_posts(simulator) == 1, 30, "the text sent after START")
        assert simulator.messages()[0]["subject"] == "Welcome back"


def test_webhook_and_polling_together_store_a_reply_delivered_twice_once(
    live_server, inbound_fleet, simulator, tmp_path
):
    inbound_fleet.RINGCENTRAL_WEBHOOK_URL = f"{live_server.url}/ringcentral/webhook"
    env = process_env(inbound_fleet)
    with running(start_worker(env, tmp_path), start_beat(env, tmp_path)):
        wait_until(
            lambda: WebhookSubscription.objects.filter(status="Active").exists(),
            30,
            "beat to create the webhook subscription",
        )
        simulator.inbound(THEIRS, "Is the shop open on Sunday?", deliveries=2)
        wait_until(lambda: InboundText.objects.exists(), 20, "the reply stored")
        stored = InboundText.objects.get()
        # Let both notifications land and the sync (every second here) overlap the reply.
        wait_until(
            lambda: len([d for d in simulator.webhook_deliveries() if d.get("uuid")]) >= 2,
            20,
            "the second notification",
        )
        wait_until(
            lambda: (
                MessageSyncState.objects.get().last_success_at
                > stored.stored_at + timedelta(seconds=2)
            ),
            30,
            "a sync after the reply",
        )
        assert InboundText.objects.count() == 1
        assert Conversation.objects.get(their_number=THEIRS).unread_count == 1
