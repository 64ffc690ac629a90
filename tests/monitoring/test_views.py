"""monitoring/views.py: who may open the dashboard, and what it shows from real data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from auth_tokens.errors import CredentialsRejected
from auth_tokens.services import get_access_token, refresh_now, revoke_tokens
from monitoring.permissions import VIEW_PERMISSIONS
from tests.support.texts import delivery_failed, sent

pytestmark = pytest.mark.django_db
URL = "/monitoring/"


def _grant(user, *names: str) -> None:
    for name in names:
        app, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )


@pytest.fixture
def viewer(django_user_model):
    user = django_user_model.objects.create_user("ops", password="pw-ops-123", is_staff=True)
    _grant(user, *VIEW_PERMISSIONS)
    return user


def test_the_url_is_the_dashboards():
    assert reverse("monitoring:dashboard") == URL


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("is_staff", "granted"),
    [
        (False, VIEW_PERMISSIONS),  # the rights, but not staff
        (True, VIEW_PERMISSIONS[:1]),  # texts, not the token
        (True, VIEW_PERMISSIONS[1:]),  # the token, not texts
    ],
)
def test_without_staff_and_both_view_rights_it_is_refused(
    client, django_user_model, is_staff, granted
):
    user = django_user_model.objects.create_user("kim", password="pw-kim-123", is_staff=is_staff)
    _grant(user, *granted)
    client.force_login(user)

    response = client.get(URL)

    assert response.status_code == 403
    assert b"may view texts and the RingCentral token" in response.content
    assert b'href="/monitoring/"' not in response.content  # no link to it either


def test_a_viewer_sees_the_charts_and_the_link_in_nav_and_admin(
    client, viewer, sms_settings, simulator
):
    sent("+16505550131")
    delivery_failed(simulator, "+16505550132", "SMS-RC-413")
    client.force_login(viewer)

    response = client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="chart chart-hours"' in page
    assert page.count('class="hour"') == 1  # both texts in this hour
    assert "SMS-RC-413" in page
    assert "permanent" in page
    assert "opted out" in page
    assert "50.0 %" not in page  # 1 failed, 0 delivered: the rate is 0 %
    assert "0.0 %" in page
    assert 'href="/monitoring/" aria-current="page"' in page
    assert 'href="/monitoring/"' in client.get("/admin/").content.decode()


def test_a_blocked_login_shows_on_the_timeline_and_in_the_state(
    client, viewer, sms_settings, simulator
):
    get_access_token()
    sms_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    with pytest.raises(CredentialsRejected):
        refresh_now(login=True)
    client.force_login(viewer)

    page = client.get(URL).content.decode()

    assert "credentials rejected: action needed" in page
    assert 'class="event event-blocked"' in page
    assert "OAU-140" in page
    assert "not-the-password" not in page


def test_a_working_token_shows_when_each_part_expires(client, viewer, sms_settings, simulator):
    get_access_token()
    client.force_login(viewer)

    page = client.get(URL).content.decode()

    assert "Access token: expires in " in page
    assert "refresh token: expires in " in page


def test_a_revoked_pair_is_said_to_be_none_rather_given_an_expiry(
    client, viewer, sms_settings, simulator
):
    get_access_token()
    revoke_tokens()
    client.force_login(viewer)

    page = client.get(URL).content.decode()

    assert "Access token: none held; refresh token: none held." in page


def test_no_admin_address_is_said_on_the_page(client, viewer, sms_settings, settings):
    settings.ADMINS = []
    client.force_login(viewer)

    assert "No admin address is configured" in client.get(URL).content.decode()

    settings.ADMINS = [("Ops", "ops@example.com")]
    assert "No admin address is configured" not in client.get(URL).content.decode()


def test_only_get_is_answered(client, viewer, sms_settings):
    client.force_login(viewer)

    assert client.post(URL).status_code == 405
