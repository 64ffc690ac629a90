"""Bulk sends with real workers and beat against the simulator: a 500-line CSV with 10 bad
lines sends 490 texts once each, through the pipeline and through A2P batches; a batch whose
answer is lost is not sent twice; cancel stops what has not gone out; and a browser watches
the progress bar reach the end."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import A2PBatch, BulkRecipient, BulkSend
from campaigns.services.bulk import bulk_cancel, bulk_confirm, bulk_create_from_csv
from harness.contacts import TEXT, contacts_csv
from smsapp.models import Message
from tests.end_to_end.test_browser import PASSWORD, sign_in
from tests.support.processes import process_env, running, start_beat, start_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
A2P_NUMBER = "+16505550120"


@pytest.fixture
def fleet(sms_settings, simulator):
    """RingCentral allowing 6000 sends a minute (the app follows its headers): the pipeline is
    limited by the workers, not the clock."""
    simulator.configure(rate_limits={"Auth": 5, "Medium": 6000, "Light": 6000, "Heavy": 10})
    sms_settings.SMS_RATE_LIMIT_PER_MINUTE = 0
    sms_settings.SMS_A2P_FROM_NUMBER = ""
    sms_settings.SMS_A2P_BATCH_SIZE = 200
    return sms_settings


def start(count: int = 500, bad: int = 10) -> BulkSend:
    bulk = bulk_create_from_csv(
        file=io.BytesIO(contacts_csv(count, bad=bad)),
        file_name="list.csv",
        text=TEXT,
        created_by=None,
    )
    assert bulk_confirm(bulk=bulk)
    return bulk


def test_490_of_500_lines_go_out_once_each_through_the_pipeline(fleet, simulator, tmp_path):
    env = process_env(fleet)
    with running(start_worker(env, tmp_path, concurrency=4), start_beat(env, tmp_path)):
        bulk = start()
        assert bulk.valid_count == 490
        wait_until(lambda: simulator.counters()["sms_accepted"] >= 490, 240, "490 texts sent")
        time.sleep(2)  # nothing more may follow
    counters = simulator.counters()
    assert counters["sms_accepted"] == 490
    assert counters["sms_duplicates"] == []
    sent = simulator.messages()
    assert len({m["to"][0]["phoneNumber"] for m in sent}) == 490
    bulk.refresh_from_db()
    assert bulk.status == BulkSend.Status.DONE
    assert Message.objects.count() == 490
    assert BulkRecipient.objects.filter(bulk=bulk, status="skipped").count() == 10


def test_490_of_500_lines_go_out_once_each_in_a2p_batches(fleet, simulator, tmp_path):
    fleet.SMS_A2P_FROM_NUMBER = A2P_NUMBER
    env = process_env(fleet)
    with running(start_worker(env, tmp_path), start_beat(env, tmp_path)):
        bulk = start()
        wait_until(lambda: simulator.counters()["a2p_messages"] >= 490, 120, "490 A2P texts")
        wait_until(
            lambda: BulkRecipient.objects.filter(bulk=bulk, status="delivered").count() == 490,
            120,
            "every row delivered (statuses polled)",
        )
    counters = simulator.counters()
    assert (counters["a2p_batches"], counters["a2p_messages"], counters["a2p_duplicates"]) == (
        3,
        490,
        0,
    )
    assert counters["sms_accepted"] == 0  # nothing went through the one-at-a-time API
    assert not Message.objects.exists()


def test_a_batch_whose_answer_was_lost_is_found_not_sent_again(fleet, simulator, tmp_path):
    fleet.SMS_A2P_FROM_NUMBER = A2P_NUMBER
    fleet.SMS_UNCERTAIN_SETTLE_SECONDS = 1.0
    simulator.inject_fault("drop", group="Light", count=1)  # the first batch's answer is lost
    env = process_env(fleet)
    with running(start_worker(env, tmp_path), start_beat(env, tmp_path)):
        bulk = start()
        wait_until(
            lambda: (
                not BulkRecipient.objects.filter(
                    bulk=bulk, status__in=["pending", "batched"]
                ).exists()
            ),
            120,
            "every row handed over",
        )
    counters = simulator.counters()
    assert (counters["a2p_batches"], counters["a2p_messages"], counters["a2p_duplicates"]) == (
        3,
        490,
        0,
    )
    assert A2PBatch.objects.filter(bulk=bulk, attempts__gt=1).count() == 0


def test_cancel_stops_every_text_that_has_not_gone_out(fleet, simulator, tmp_path):
    simulator.configure(rate_limits={"Auth": 5, "Medium": 60, "Light": 6000, "Heavy": 10})
    env = process_env(fleet)
    with running(start_worker(env, tmp_path), start_beat(env, tmp_path)):
        bulk = start(100, bad=0)
        wait_until(lambda: simulator.counters()["sms_accepted"] >= 5, 60, "the first texts")
        bulk_cancel(bulk=bulk)
        at_cancel = simulator.counters()["sms_accepted"]
        time.sleep(5)
        after = simulator.counters()["sms_accepted"]
    # A text a worker had already claimed when the cancel came may still finish: one per
    # worker process at most.
    assert after - at_cancel <= 2
    assert after < 100
    statuses = set(Message.objects.values_list("status", flat=True))
    assert statuses <= {"sent", "delivered", "canceled"}
    assert BulkRecipient.objects.filter(bulk=bulk, status="pending").count() == 0


def test_a_browser_uploads_checks_confirms_and_watches_the_bar_reach_the_end(
    chromium, live_server, django_user_model, staff_senders, fleet, simulator, tmp_path
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    user = django_user_model.objects.create_user("pat", password=PASSWORD)
    user.groups.add(staff_senders)
    csv_path = tmp_path / "reminders.csv"
    csv_path.write_bytes(contacts_csv(40, bad=4))
    env = process_env(fleet)
    with running(start_worker(env, tmp_path), start_beat(env, tmp_path)):
        page = chromium.new_page(viewport={"width": 1100, "height": 900})
        page.set_default_timeout(20_000)
        sign_in(page, live_server, "pat")
        page.goto(f"{live_server.url}{reverse('campaigns:bulk-new')}")
        page.get_by_label("CSV file").set_input_files(str(csv_path))
        page.get_by_label("Text", exact=True).fill(TEXT)
        page.screenshot(path=str(SCREENSHOTS / "bulk-upload.png"), full_page=True)
        page.get_by_role("button", name="Upload and check").click()

        expect(page.locator("#to-send")).to_have_text("36")
        expect(page.locator("#skipped")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "bulk-preview.png"), full_page=True)
        assert not Message.objects.exists()
        page.get_by_role("button", name="Send 36 texts").click()

        expect(page.locator("#bulk-status")).to_have_text("every line handed over", timeout=60_000)
        delivered = page.locator('[data-stage="delivered"] strong')
        expect(delivered).to_have_text("36", timeout=60_000)
        page.screenshot(path=str(SCREENSHOTS / "bulk-progress-done.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SCREENSHOTS / "bulk-progress-phone.png"), full_page=True)
    assert simulator.counters()["sms_accepted"] == 36
