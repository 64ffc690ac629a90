"""smsapp/health.py: /healthz (200 or 503, with the facts) and the staff banner, both read from
sending_health; the banner only for people who send."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from auth_tokens.errors import CredentialsRejected
from auth_tokens.services import get_access_token
from smsapp.sending_health import probe_ringcentral

pytestmark = pytest.mark.django_db


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


def test_healthz_is_503_when_the_broker_is_down(client, fleet, rc_settings):
    rc_settings.CELERY_BROKER_URL = "redis://127.0.0.1:6399/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


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
    rc_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    with pytest.raises(CredentialsRejected):
        get_access_token()  # a real rejection: logins are blocked until someone fixes it
    nobody = get_user_model().objects.create_user("nina", password="a-long-test-password")
    client.force_login(nobody)
    page = client.get(reverse("smsapp:compose")).content.decode()  # the 403 page
    assert "cannot sign in" not in page
    assert 'class="banner"' not in page
    assert rc_settings.RINGCENTRAL_SERVER_URL not in page
    client.force_login(sender)
    assert "cannot sign in to RingCentral" in client.get(reverse("smsapp:compose")).content.decode()
