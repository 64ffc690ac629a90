"""smsapp/sending_health.py: one selector computes whether sending works from the facts
(workers' and beat's heartbeats, the limiter's pause, the backlog, the backend)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis
from django.urls import reverse
from django.utils import timezone

from smsapp import services
from smsapp.backends.ringcentral import RingCentralBackend
from smsapp.models import Message
from smsapp.ratelimit import FleetRateLimiter
from smsapp.sending_health import configuration_problems, sending_health, uses_ringcentral

Status = Message.Status


def _keys(health) -> set[str]:
    return {p.key for p in health.problems}


@pytest.mark.django_db
def test_no_worker_beating_is_a_problem_that_names_the_fix(fleet, rc_settings):
    redis.Redis.from_url(rc_settings.REDIS_URL).zadd(
        "smsapp:workers:heartbeats", {fleet.name: time.time() - 60}
    )
    health = sending_health()
    assert _keys(health) == {"workers"}
    assert "celery -A smsapp worker" in health.problems[0].admin
    assert not health.healthy


@pytest.mark.django_db
def test_a_silent_beat_is_a_problem(fleet, rc_settings):
    redis.Redis.from_url(rc_settings.REDIS_URL).set(
        "smsapp:health:dispatcher-ran", time.time() - 600
    )
    health = sending_health()
    assert _keys(health) == {"beat"}
    assert "celery -A smsapp beat" in health.problems[0].admin


@pytest.mark.django_db
def test_a_rate_limit_pause_is_shown_but_waits_by_itself(client, fleet, sender):
    FleetRateLimiter("Medium", 40).pause(120)
    health = sending_health()
    assert _keys(health) == {"rate_limit"}
    assert health.healthy  # it clears by itself: /healthz stays 200
    assert client.get(reverse("healthz")).status_code == 200
    client.force_login(sender)
    assert "asked us to slow down" in client.get(reverse("smsapp:compose")).content.decode()


@pytest.mark.django_db
def test_texts_waiting_too_long_are_a_problem(fleet, rc_settings):
    [message] = services.message_create(to_numbers=["+16505550101"], text="Hi")
    assert "backlog" not in _keys(sending_health())
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(minutes=rc_settings.SMS_HEALTH_WAITING_MINUTES + 1)
    )
    health = sending_health()
    assert _keys(health) == {"backlog"}
    assert "waiting more than" in health.problems[0].staff


class BrandedRingCentralBackend(RingCentralBackend):
    """A deployment's own subclass, under its own dotted path."""


def test_a_subclass_of_the_ringcentral_backend_counts_as_ringcentral(settings):
    settings.SMS_BACKEND = f"{__name__}.BrandedRingCentralBackend"
    settings.RINGCENTRAL_SERVER_URL = "not-a-url"
    assert uses_ringcentral()
    assert "RINGCENTRAL_SERVER_URL is not an http(s) URL with a host" in configuration_problems()
    settings.SMS_BACKEND = "console"
    assert not uses_ringcentral()
