"""The gauges read at scrape time: each one follows the database or Redis fact it reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from auth_tokens.api import CredentialsRejected, get_access_token
from ringcentral_sim import config as sim
from smsapp.models import Message
from smsapp.ratelimit import FleetRateLimiter
from tests.metrics.conftest import scrape
from tests.support.texts import create_texts

pytestmark = pytest.mark.django_db
Status = Message.Status


def test_queue_depth_oldest_waiting_age_and_uncertain_texts_follow_the_table(
    client, metrics_settings, sms_settings
):
    before = scrape(client)
    assert before.value("smsapp_queue_depth") == 0
    assert before.value("smsapp_oldest_queued_text_age_seconds") == 0
    assert before.value("smsapp_uncertain_texts") == 0

    old, new, unsure = create_texts("+16505550101", "+16505550102", "+16505550103")
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=7))
    Message.objects.filter(pk=unsure.pk).update(status=Status.UNCERTAIN)
    # Not waiting: a scheduled text before its time, and one already sent.
    create_texts("+16505550104", send_at=timezone.now() + timedelta(hours=1))
    Message.objects.filter(pk=new.pk).update(created_at=timezone.now() - timedelta(days=2))
    Message.objects.filter(pk=new.pk).update(status=Status.SENT)

    after = scrape(client)
    assert after.value("smsapp_queue_depth") == 1
    assert after.value("smsapp_uncertain_texts") == 1
    assert after.value("smsapp_texts_sending") == 0
    assert 7 * 60 <= after.value("smsapp_oldest_queued_text_age_seconds") < 8 * 60


def test_token_expiry_and_state_follow_the_token_row(client, metrics_settings, rc_settings):
    # Not logged in yet: no expiry to report, and the state says so.
    first = scrape(client)
    assert not first.has("smsapp_token_access_expires_in_seconds")
    assert first.value("smsapp_token_state", state="not_logged_in") == 1

    get_access_token()  # a login against the simulator: 1 h access, 7 day refresh token
    logged_in = scrape(client)
    assert 3500 < logged_in.value("smsapp_token_access_expires_in_seconds") <= 3600
    assert 604000 < logged_in.value("smsapp_token_refresh_expires_in_seconds") <= 604800
    assert logged_in.value("smsapp_token_state", state="healthy") == 1
    assert logged_in.value("smsapp_token_state", state="blocked") == 0
    assert logged_in.value("smsapp_token_blocked") == 0


def test_rejected_credentials_show_as_blocked(client, metrics_settings, rc_settings, simulator):
    simulator.configure(users=[{**sim.default_user(), "password": "changed-at-ringcentral"}])
    with pytest.raises(CredentialsRejected):
        get_access_token()
    blocked = scrape(client)
    assert blocked.value("smsapp_token_blocked") == 1
    assert blocked.value("smsapp_token_state", state="blocked") == 1
    assert blocked.value("smsapp_token_state", state="healthy") == 0


def test_the_fleets_pause_shows_per_group(client, metrics_settings, clean_redis):
    assert scrape(client).value("smsapp_rate_limit_pause_remaining_seconds", group="Medium") == 0
    FleetRateLimiter("Medium", 40).pause(30)
    paused = scrape(client)
    assert 28 < paused.value("smsapp_rate_limit_pause_remaining_seconds", group="Medium") <= 30
    assert paused.value("smsapp_rate_limit_pause_remaining_seconds", group="Light") == 0


def test_a_part_that_cannot_be_read_is_reported_down_and_the_rest_still_answers(
    client, metrics_settings, clean_redis, settings
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    result = scrape(client)
    assert result.value("smsapp_metrics_part_up", part="limiter") == 0
    assert result.value("smsapp_metrics_part_up", part="queue") == 1
    assert result.has("smsapp_queue_depth")
    assert not result.has("smsapp_rate_limit_pause_remaining_seconds")
