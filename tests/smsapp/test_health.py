"""Sending health: one selector from the facts, for /healthz and the staff banner; who sees the
banner; settings that start fine but cannot send."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.checks import run_checks
from django.urls import reverse
from django.utils import timezone

from auth_tokens.credentials import Credentials
from auth_tokens.errors import CredentialsRejected
from auth_tokens.models import RingCentralToken
from auth_tokens.services import get_access_token
from smsapp import services
from smsapp.backends.ringcentral import RingCentralBackend
from smsapp.heartbeats import Heartbeat
from smsapp.models import Message
from smsapp.ratelimit import FleetRateLimiter
from smsapp.sending_health import (
    configuration_problems,
    probe_ringcentral,
    record_dispatcher_run,
    sending_health,
    uses_ringcentral,
)

pytestmark = pytest.mark.django_db
Status = Message.Status


@pytest.fixture
def fleet(rc_settings):
    """A worker beating, beat's dispatcher running and RingCentral answering, as in a healthy
    deployment; each test then breaks one thing."""
    rc_settings.REDIS_URL = rc_settings.CELERY_BROKER_URL
    redis.Redis.from_url(rc_settings.REDIS_URL).flushdb()
    worker = Heartbeat("celery@test")
    worker._beat()
    record_dispatcher_run()
    probe_ringcentral()
    yield worker
    redis.Redis.from_url(rc_settings.REDIS_URL).flushdb()


def _keys(health) -> set[str]:
    return {p.key for p in health.problems}


def _block_the_login() -> None:
    creds = Credentials.from_settings()
    RingCentralToken.objects.create(
        credential_key=creds.key,
        server_url=creds.server_url,
        client_id=creds.client_id,
        username=creds.username,
        extension=creds.extension,
        login_grant=creds.grant,
        blocked=True,
        blocked_fingerprint=creds.fingerprint,
    )


def test_healthz_is_200_when_everything_answers(client, fleet):
    response = client.get(reverse("healthz"))
    data = response.json()
    assert response.status_code == 200, data
    assert (data["database"], data["broker"], data["redis"]) == ("ok", "ok", "ok")
    assert data["ringcentral"] == "ok"
    assert data["workers"] == 1
    assert data["tokens"]["state"] == "not_logged_in"
    assert data["problems"] == []


def test_an_unreachable_ringcentral_shows_on_healthz_and_the_banner_then_clears(
    client, fleet, rc_settings, sender
):
    answering = rc_settings.RINGCENTRAL_SERVER_URL
    rc_settings.RINGCENTRAL_SERVER_URL = "http://127.0.0.1:9"  # nothing listens there
    probe_ringcentral()
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert [p["key"] for p in response.json()["problems"]] == ["ringcentral"]
    client.force_login(sender)
    page = client.get(reverse("smsapp:history")).content.decode()
    assert "RingCentral cannot be reached" in page
    assert "Nothing is lost" in page
    rc_settings.RINGCENTRAL_SERVER_URL = answering  # it is back
    probe_ringcentral()
    assert client.get(reverse("healthz")).status_code == 200
    assert "cannot be reached" not in client.get(reverse("smsapp:history")).content.decode()


def test_no_worker_beating_is_a_problem_that_names_the_fix(fleet, rc_settings):
    redis.Redis.from_url(rc_settings.REDIS_URL).zadd(
        "smsapp:workers:heartbeats", {fleet.name: time.time() - 60}
    )
    health = sending_health()
    assert _keys(health) == {"workers"}
    assert "celery -A smsapp worker" in health.problems[0].admin
    assert not health.healthy


def test_a_silent_beat_is_a_problem(fleet, rc_settings):
    redis.Redis.from_url(rc_settings.REDIS_URL).set(
        "smsapp:health:dispatcher-ran", time.time() - 600
    )
    health = sending_health()
    assert _keys(health) == {"beat"}
    assert "celery -A smsapp beat" in health.problems[0].admin


def test_a_rate_limit_pause_is_shown_but_waits_by_itself(client, fleet, sender):
    FleetRateLimiter("Medium", 40).pause(120)
    health = sending_health()
    assert _keys(health) == {"rate_limit"}
    assert health.healthy  # it clears by itself: /healthz stays 200
    assert client.get(reverse("healthz")).status_code == 200
    client.force_login(sender)
    assert "asked us to slow down" in client.get(reverse("smsapp:compose")).content.decode()


def test_texts_waiting_too_long_are_a_problem(fleet, rc_settings):
    [message] = services.message_create(to_numbers=["+16505550101"], text="Hi")
    assert "backlog" not in _keys(sending_health())
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(minutes=rc_settings.SMS_HEALTH_WAITING_MINUTES + 1)
    )
    health = sending_health()
    assert _keys(health) == {"backlog"}
    assert "waiting more than" in health.problems[0].staff


def test_a_rejected_login_speaks_to_staff_and_to_admins_differently(
    client, fleet, rc_settings, sender, django_user_model
):
    rc_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    with pytest.raises(CredentialsRejected):
        get_access_token()
    client.force_login(sender)
    for name in ("smsapp:compose", "smsapp:history"):
        page = client.get(reverse(name)).content.decode()
        assert "cannot sign in to RingCentral" in page
        assert "an admin must fix" in page
        assert "RINGCENTRAL_PASSWORD" not in page  # settings are for admins
        assert "not-the-password" not in page
    admin = django_user_model.objects.create_user("ada", password="a-long-test-password")
    admin.user_permissions.add(
        Permission.objects.get(codename="view_ringcentraltoken"),
        Permission.objects.get(codename="send_sms"),
    )
    client.force_login(admin)
    page = client.get(reverse("smsapp:compose")).content.decode()
    assert "For admins:" in page
    assert "RINGCENTRAL_PASSWORD" in page  # the hint names what to fix
    assert "not-the-password" not in page


def test_the_banner_is_only_for_people_who_send(client, fleet, rc_settings, sender):
    _block_the_login()
    nobody = get_user_model().objects.create_user("nina", password="a-long-test-password")
    client.force_login(nobody)
    page = client.get(reverse("smsapp:compose")).content.decode()  # the 403 page
    assert "cannot sign in" not in page
    assert 'class="banner"' not in page
    assert rc_settings.RINGCENTRAL_SERVER_URL not in page
    client.force_login(sender)
    assert "cannot sign in to RingCentral" in client.get(reverse("smsapp:compose")).content.decode()


def test_healthz_is_503_when_the_broker_is_down(client, fleet, rc_settings):
    rc_settings.CELERY_BROKER_URL = "redis://127.0.0.1:6399/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


@pytest.mark.parametrize("backend", ["console", "locmem"])
def test_a_pretend_backend_in_production_is_a_warning_a_503_and_a_banner(
    client, settings, sender, backend
):
    settings.DEBUG = False
    settings.SMS_BACKEND = backend
    [warning] = [m for m in run_checks() if m.id == "smsapp.W001"]
    assert f"SMS_BACKEND={backend}" in warning.msg
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    [problem] = [p for p in response.json()["problems"] if p["key"] == "configuration"]
    assert "does not send texts" in problem["detail"]
    client.force_login(sender)
    page = client.get(reverse("smsapp:compose")).content.decode()
    assert "not set up to send them" in page


def test_a_pretend_backend_while_developing_is_fine(settings):
    settings.DEBUG = True
    settings.SMS_BACKEND = "console"
    assert not [m for m in run_checks() if m.id == "smsapp.W001"]
    assert "configuration" not in _keys(sending_health())


def test_an_unusable_server_url_holds_the_text_as_a_configuration_problem(
    client, sms_settings, simulator
):
    sms_settings.RINGCENTRAL_SERVER_URL = "not-a-url"
    [message] = services.message_create(to_numbers=["+16505550101"], text="Hello")
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    # It certainly did not leave: held, not "uncertain: it may have gone out".
    assert message.status == Status.QUEUED
    assert message.held_since is not None
    assert message.error_code == "CONFIG"
    assert "configuration problem" in message.error_reason
    assert "RINGCENTRAL_SERVER_URL" in message.error_reason
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert any("RINGCENTRAL_SERVER_URL" in p["detail"] for p in response.json()["problems"])
    assert simulator.counters()["sms_accepted"] == 0


class BrandedRingCentralBackend(RingCentralBackend):
    """A deployment's own subclass, under its own dotted path."""


def test_a_subclass_of_the_ringcentral_backend_counts_as_ringcentral(settings):
    settings.SMS_BACKEND = f"{__name__}.BrandedRingCentralBackend"
    settings.RINGCENTRAL_SERVER_URL = "not-a-url"
    assert uses_ringcentral()
    assert "RINGCENTRAL_SERVER_URL is not an http(s) URL with a host" in configuration_problems()
    settings.SMS_BACKEND = "console"
    assert not uses_ringcentral()
