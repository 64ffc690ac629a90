"""Sending health: who sees the banner, and settings that start fine but cannot send."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.urls import reverse

from auth_tokens.credentials import Credentials
from auth_tokens.models import RingCentralToken
from smsapp import services
from smsapp.models import Message

pytestmark = pytest.mark.django_db
Status = Message.Status


@pytest.fixture
def sender(django_user_model, staff_senders):
    user = django_user_model.objects.create_user("sam", password="a-long-test-password")
    user.groups.add(staff_senders)
    return user


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


def test_the_banner_is_only_for_people_who_send(client, rc_settings, sender, django_user_model):
    _block_the_login()
    nobody = django_user_model.objects.create_user("nina", password="a-long-test-password")
    client.force_login(nobody)
    page = client.get(reverse("smsapp:compose")).content.decode()  # the 403 page
    assert "Texts are waiting" not in page
    assert rc_settings.RINGCENTRAL_USERNAME not in page
    assert rc_settings.RINGCENTRAL_SERVER_URL not in page
    client.force_login(sender)
    assert "Texts are waiting" in client.get(reverse("smsapp:compose")).content.decode()


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
    assert "does not send texts" in response.json()["configuration"][0]
    client.force_login(sender)
    page = client.get(reverse("smsapp:compose")).content.decode()
    assert "Texts are not being sent" in page


def test_a_pretend_backend_while_developing_is_fine(client, settings):
    settings.DEBUG = True
    settings.SMS_BACKEND = "console"
    assert not [m for m in run_checks() if m.id == "smsapp.W001"]
    assert client.get(reverse("healthz")).json()["configuration"] == "ok"


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
    assert any("RINGCENTRAL_SERVER_URL" in p for p in response.json()["configuration"])
    assert simulator.counters()["sms_accepted"] == 0
