"""smsapp/error_reporting.py: no secret on an error page (DEBUG on or off) or in an error
report: settings, environment, the frames of a token request, a typed password."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from django.contrib.auth.forms import AuthenticationForm
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.debug import ExceptionReporter

from auth_tokens import client as rc_client
from auth_tokens.credentials import Credentials
from auth_tokens.crypto import decrypt
from auth_tokens.models import RingCentralToken
from auth_tokens.services import get_access_token
from ringcentral_sim import config as sim
from smsapp.error_reporting import hide_url_passwords

STARS = "********************"
# Made at run time: a literal would show on the debug page as source code around a frame.
BROKER_PASSWORD = f"broker-pw-{secrets.token_hex(4)}"
REDIS_PASSWORD = f"redis-pw-{secrets.token_hex(4)}"
DATABASE_PASSWORD = f"db-pw-{secrets.token_hex(4)}"
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def debug_with_secrets(rc_settings):
    """DEBUG on (as a developer runs it) with every kind of secret configured."""
    rc_settings.DEBUG = True
    rc_settings.RINGCENTRAL_JWT = sim.DEFAULT_JWT
    rc_settings.CELERY_BROKER_URL = f"redis://:{BROKER_PASSWORD}@127.0.0.1:6379/12"
    rc_settings.REDIS_URL = f"redis://app:{REDIS_PASSWORD}@127.0.0.1:6379/12"
    return rc_settings


def secrets_in(page: str, *extra: str) -> list[str]:
    """The secrets a page shows (expected: none)."""
    basic = base64.b64encode(
        f"{sim.DEFAULT_CLIENT_ID}:{sim.DEFAULT_CLIENT_SECRET}".encode()
    ).decode()
    candidates = (
        sim.DEFAULT_JWT,
        sim.DEFAULT_PASSWORD,
        sim.DEFAULT_CLIENT_SECRET,
        basic,
        BROKER_PASSWORD,
        REDIS_PASSWORD,
        DATABASE_PASSWORD,
        *extra,
    )
    return [secret for secret in candidates if secret and secret in page]


@pytest.mark.django_db
def test_debug_page_for_an_unexpected_host_shows_no_secret(debug_with_secrets):
    # runserver copies the process environment into request.META: the page lists it too.
    environment = {
        "RINGCENTRAL_JWT": sim.DEFAULT_JWT,
        "RINGCENTRAL_PASSWORD": sim.DEFAULT_PASSWORD,
        "DATABASE_URL": f"postgres://app:{DATABASE_PASSWORD}@db.internal:5432/smsapp",
    }
    page = Client().get("/", HTTP_HOST="attacker.example", **environment)

    assert page.status_code == 400
    text = page.content.decode()
    assert "DisallowedHost" in text  # it is Django's debug page, settings and all
    assert "RINGCENTRAL_JWT" in text
    assert secrets_in(text) == []
    # URLs stay readable with the password masked.
    assert f"redis://:{STARS}@127.0.0.1:6379/12" in text
    assert f"postgres://app:{STARS}@db.internal:5432/smsapp" in text


@pytest.fixture
def manager(django_user_model):
    return django_user_model.objects.create_superuser("boss", password="unused-boss-77")


def explode(self, request, **kwargs):
    raise RuntimeError("simulated failure inside requests")


@contextmanager
def failing_inside_requests() -> Iterator[None]:
    """Something unexpected inside requests, below the token request: its frames hold the
    form (password, refresh token, JWT) and the Basic auth pair. Only for the block: the
    simulator fixture talks to the simulator through requests too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(requests.adapters.HTTPAdapter, "send", explode)
        yield


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["refresh_now", "log_in_again"])
# The login grant: a JWT, or (none configured) the password grant.
@pytest.mark.parametrize(
    "jwt", [pytest.param("", id="password"), pytest.param(sim.DEFAULT_JWT, id="jwt")]
)
def test_500_during_a_token_request_from_the_admin_shows_no_secret(
    debug_with_secrets, manager, simulator, action, jwt
):
    debug_with_secrets.RINGCENTRAL_JWT = jwt
    get_access_token()
    row = RingCentralToken.objects.get()
    tokens = (decrypt(row.access_token_encrypted), decrypt(row.refresh_token_encrypted))
    assert all(tokens)
    browser = Client(raise_request_exception=False)
    browser.force_login(manager)

    with failing_inside_requests():
        page = browser.post(
            reverse("admin:auth_tokens_ringcentraltoken_run", args=[row.pk, action]),
        )

    assert page.status_code == 500
    text = page.content.decode()
    assert "simulated failure inside requests" in text
    assert "_token_request" in text  # the frames of the token request are on the page
    assert secrets_in(text, *tokens) == []


@pytest.mark.parametrize("debug", [True, False])
def test_error_report_of_a_failed_login_request_shows_no_secret(rc_settings, debug):
    """What an error report (email, tracker) gets: the full traceback with locals."""
    rc_settings.DEBUG = debug
    rc_settings.RINGCENTRAL_JWT = sim.DEFAULT_JWT
    request = RequestFactory().get("/compose/")
    with failing_inside_requests(), pytest.raises(RuntimeError) as failure:
        rc_client.login(Credentials.from_settings())

    reporter = ExceptionReporter(request, failure.type, failure.value, failure.tb)
    html, text = reporter.get_traceback_html(), reporter.get_traceback_text()

    assert "login" in text
    assert secrets_in(html) == []
    assert secrets_in(text) == []


def broken_clean(self):
    raise RuntimeError("simulated failure while signing in")


@pytest.mark.django_db
@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_a_sign_in_that_fails_with_an_error_shows_no_password(settings, monkeypatch, url):
    settings.DEBUG = True
    monkeypatch.setattr(AuthenticationForm, "clean", broken_clean)
    password = f"typed-{secrets.token_hex(6)}"

    page = Client(raise_request_exception=False).post(
        url, {"username": "someone", "password": password}
    )

    assert page.status_code == 500
    text = page.content.decode()
    assert "simulated failure while signing in" in text
    assert password not in text


def test_url_passwords_are_masked_and_the_rest_kept():
    assert hide_url_passwords("redis://:pw@host:6379/0") == f"redis://:{STARS}@host:6379/0"
    assert hide_url_passwords("amqp://user:p@ss/w@mq/vh") == f"amqp://user:{STARS}@mq/vh"
    assert hide_url_passwords("postgres://user@host/db") == "postgres://user@host/db"
    assert hide_url_passwords("see https://example.com/a") == "see https://example.com/a"
