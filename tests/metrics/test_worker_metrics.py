"""Each event metric moves when its event happens: real Celery workers (prefork children) send
through the simulator and write to their own PROMETHEUS_MULTIPROC_DIR, and /metrics, read as
Prometheus reads it, adds up what they wrote."""

from __future__ import annotations

import time

import pytest

from ringcentral_sim import config as sim
from smsapp import services
from smsapp.models import Message
from tests.metrics.conftest import scrape
from tests.support.processes import process_env, running, start_beat, start_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]
Status = Message.Status


def _worker_env(sms_settings, metrics_dir, group: str) -> dict[str, str]:
    env = process_env(sms_settings)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir / group)
    return env


def _settled(count: int):
    done = {Status.DELIVERED, Status.FAILED}
    return lambda: Message.objects.filter(status__in=done).count() == count


def test_sends_deliveries_and_the_login_are_counted_across_workers_and_their_children(
    client, metrics_settings, sms_settings, simulator, tmp_path
):
    first = start_worker(_worker_env(sms_settings, metrics_settings, "worker-a"), tmp_path)
    second = start_worker(_worker_env(sms_settings, metrics_settings, "worker-b"), tmp_path)
    with running(first, second, start_beat(process_env(sms_settings), tmp_path)):
        services.message_create(
            # The last one's carrier reports it invalid (SMS-CAR-411: permanent).
            to_numbers=["+16505550101", "+16505550102", "+16505550103", "+15005550001"],
            text="Counted",
        )
        wait_until(_settled(4), 60, "three texts delivered and one failed")
    result = scrape(client)

    assert result.value("smsapp_texts_total", outcome="accepted") == 4
    assert result.value("smsapp_texts_total", outcome="delivered") == 3
    assert result.value("smsapp_texts_total", outcome="failed", reason_class="permanent") == 1
    assert result.value("smsapp_send_latency_seconds_count") == 4
    assert 0 < result.value("smsapp_send_latency_seconds_sum") < 4 * 30
    assert result.value("smsapp_delivery_latency_seconds_count") == 3
    assert result.value("smsapp_ringcentral_requests_total", group="Medium", status="200") == 4
    # One login for the whole fleet, counted where it happened.
    assert result.value("smsapp_token_renewals_total", kind="login") == 1
    assert result.value("smsapp_ringcentral_requests_total", group="Auth", status="200") == 1
    # Statuses came from store reads (the message sync, or the status check): the Light group.
    assert result.value("smsapp_ringcentral_requests_total", group="Light", status="200") >= 1
    # Each worker's series are its own: a restart of one resets only its own counters.
    groups = {
        labels["process_group"]
        for name, labels, _ in result.samples
        if name == "smsapp_texts_total" and labels.get("outcome") == "accepted"
    }
    assert groups <= {"worker-a", "worker-b"}
    assert groups
    assert result.value("smsapp_queue_depth") == 0
    assert result.value("smsapp_oldest_queued_text_age_seconds") == 0


def test_a_429_counts_the_answer_the_pause_and_the_waiting_text(
    client, metrics_settings, sms_settings, simulator, tmp_path
):
    simulator.inject_fault("error", group="Medium", status=429, retry_after=2)
    worker = start_worker(_worker_env(sms_settings, metrics_settings, "worker"), tmp_path)
    with running(worker, start_beat(process_env(sms_settings), tmp_path)):
        services.message_create(to_numbers=["+16505550101"], text="Patience")
        wait_until(lambda: Message.objects.filter(status=Status.SENT).exists(), 60, "the send")
    result = scrape(client)

    assert result.value("smsapp_ringcentral_requests_total", group="Medium", status="429") == 1
    assert result.value("smsapp_ringcentral_rate_limited_total", group="Medium") == 1
    assert result.value("smsapp_rate_limit_pause_seconds_total", group="Medium", cause="429") == 2
    assert (
        result.value("smsapp_texts_total", outcome="rate_limited", reason_class="rate_limit") == 1
    )
    assert result.value("smsapp_texts_total", outcome="accepted") == 1


def test_a_refresh_then_rejected_credentials_count_renewals_failures_and_held_texts(
    client, metrics_settings, sms_settings, simulator, tmp_path
):
    simulator.configure(access_token_ttl=2)
    worker = start_worker(_worker_env(sms_settings, metrics_settings, "worker"), tmp_path)
    with running(worker):
        services.message_create(to_numbers=["+16505550101"], text="One")
        wait_until(lambda: Message.objects.filter(status=Status.SENT).count() == 1, 30, "one")
        time.sleep(2.5)  # the access token expires: the next send refreshes it
        services.message_create(to_numbers=["+16505550102"], text="Two")
        wait_until(lambda: Message.objects.filter(status=Status.SENT).count() == 2, 30, "two")
        # Someone changes the password at RingCentral and every session ends.
        simulator.configure(users=[{**sim.default_user(), "password": "changed-at-ringcentral"}])
        simulator.revoke_all()
        [held] = services.message_create(to_numbers=["+16505550103"], text="Three")
        wait_until(
            lambda: Message.objects.filter(pk=held.pk, held_since__isnull=False).exists(),
            30,
            "the third text to be held for the login",
        )
    result = scrape(client)

    assert result.value("smsapp_token_renewals_total", kind="login") == 1
    assert result.value("smsapp_token_renewals_total", kind="refresh") == 1
    # The revoked refresh token, then the changed password: each refused with its code.
    assert result.value("smsapp_token_renewal_failures_total", kind="refresh") == 1
    login_failures = [
        labels["code"]
        for name, labels, value in result.samples
        if name == "smsapp_token_renewal_failures_total" and labels["kind"] == "login" and value
    ]
    assert login_failures
    assert all(code.startswith("OAU-") for code in login_failures)
    assert result.value("smsapp_texts_total", outcome="held", reason_class="login") == 1
    assert result.value("smsapp_token_blocked") == 1
    assert result.value("smsapp_queue_depth") == 1
