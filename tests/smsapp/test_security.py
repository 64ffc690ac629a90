"""Safe by default: no secret on an error page, throttled sign-ins, a strict CSP, idle sessions
end, and `check --deploy` clean but for the two deliberate HSTS warnings."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import requests
from axes.models import AccessAttempt
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.sessions.models import Session
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter

from auth_tokens import client as rc_client
from auth_tokens.credentials import Credentials
from auth_tokens.crypto import decrypt
from auth_tokens.models import RingCentralToken
from auth_tokens.services import get_access_token
from ringcentral_sim import config as sim
from smsapp.error_reporting import hide_url_passwords
from smsapp.settings import client_ip_address
from tests.smsapp.test_config_errors import run_manage

pytestmark = pytest.mark.django_db

STARS = "********************"
# Made at run time: a literal would show on the debug page as source code around a frame.
BROKER_PASSWORD = f"broker-pw-{secrets.token_hex(4)}"
REDIS_PASSWORD = f"redis-pw-{secrets.token_hex(4)}"
DATABASE_PASSWORD = f"db-pw-{secrets.token_hex(4)}"
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


# -- error pages ------------------------------------------------------------------------------


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


@pytest.mark.parametrize("action", ["refresh_now", "log_in_again"])
@pytest.mark.parametrize("grant", ["password", "jwt"])
def test_500_during_a_token_request_from_the_admin_shows_no_secret(
    debug_with_secrets, manager, simulator, action, grant
):
    if grant == "password":
        debug_with_secrets.RINGCENTRAL_JWT = ""
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


# -- sign-in throttling -----------------------------------------------------------------------


@pytest.fixture
def people(django_user_model) -> dict[str, str]:
    """User name -> password: two staff members who may use the admin too."""
    passwords = {"pat": "pat-right-password-1", "sam": "sam-right-password-2"}
    for name, password in passwords.items():
        django_user_model.objects.create_user(name, password=password, is_staff=True)
    return passwords


def sign_in(url: str, username: str, password: str, address: str = "10.0.0.1", **extra):
    form = {"username": username, "password": password}
    if url == ADMIN_LOGIN:
        form["next"] = "/admin/"  # as the admin's form posts it
    return Client().post(url, form, REMOTE_ADDR=address, **extra)


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    text = response.content.decode()
    assert "Signing in is paused" in text
    assert "try again in 15 minutes" in text
    assert "RingCentral SMS" in text  # the site's own layout (templates/base.html)


def assert_signed_in(response, url: str) -> None:
    assert response.status_code == 302, response.content.decode()[:300]
    assert response["Location"] == ("/admin/" if url == ADMIN_LOGIN else "/compose/")


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_five_wrong_passwords_lock_out_even_the_right_one(people, url):
    answers = [sign_in(url, "pat", f"wrong-{attempt}").status_code for attempt in range(5)]
    right = sign_in(url, "pat", people["pat"])

    assert answers[:4] == [200] * 4  # the form again, with its error
    assert answers[4] == 429
    assert_locked_out(right)
    assert "_auth_user_id" not in right.client.session


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_the_address_is_locked_out_for_every_user_name(people, url):
    for attempt in range(5):
        sign_in(url, "pat", f"wrong-{attempt}", address="10.0.0.1")

    assert_locked_out(sign_in(url, "sam", people["sam"], address="10.0.0.1"))
    assert_signed_in(sign_in(url, "sam", people["sam"], address="10.0.0.2"), url)


def test_the_user_name_is_locked_out_from_every_address(people):
    for attempt in range(5):
        sign_in(LOGIN, "pat", f"wrong-{attempt}", address=f"10.0.1.{attempt}")

    assert_locked_out(sign_in(LOGIN, "pat", people["pat"], address="10.0.2.1"))
    assert_signed_in(sign_in(LOGIN, "sam", people["sam"], address="10.0.2.1"), LOGIN)


def age_attempts(minutes: int) -> None:
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_sign_in_works_again_after_the_cool_off(people, url):
    for attempt in range(5):
        sign_in(url, "pat", f"wrong-{attempt}")

    age_attempts(14)
    assert_locked_out(sign_in(url, "pat", people["pat"]))  # and the 15 minutes start again
    age_attempts(14)
    assert_locked_out(sign_in(url, "pat", people["pat"]))
    age_attempts(16)
    assert_signed_in(sign_in(url, "pat", people["pat"]), url)


def test_forwarded_for_is_ignored_without_a_trusted_proxy(people, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for attempt in range(5):
        sign_in(LOGIN, f"nobody{attempt}", "x", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")

    assert_locked_out(sign_in(LOGIN, "sam", people["sam"], HTTP_X_FORWARDED_FOR="192.0.2.99"))


def test_behind_a_trusted_proxy_the_address_it_appended_counts(people, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "172.18.0.5"  # every request arrives from the proxy
    for attempt in range(5):
        # The client forges the left part; the proxy appends the address it saw.
        forged = f"198.51.100.{attempt}, 203.0.113.7"
        sign_in(LOGIN, f"nobody{attempt}", "x", address=proxy, HTTP_X_FORWARDED_FOR=forged)

    attacker = sign_in(
        LOGIN, "sam", people["sam"], address=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7"
    )
    colleague = sign_in(
        LOGIN, "sam", people["sam"], address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.20"
    )

    assert_locked_out(attacker)
    assert_signed_in(colleague, LOGIN)


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "10.9.9.9"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "1.1.1.1, 203.0.113.7", "203.0.113.7"),
        (2, "1.1.1.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "10.9.9.9"),  # fewer hops than proxies: not to be trusted
        (1, "not-an-address", "10.9.9.9"),
        (1, "", "10.9.9.9"),
    ],
)
def test_client_address_for_lockouts(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip_address(request) == expected


# -- Content-Security-Policy ------------------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN, "/compose/", "/messages/", "/admin/"])
def test_pages_send_a_strict_content_security_policy(client, django_user_model, url):
    client.force_login(django_user_model.objects.create_superuser("root", password="x-7"))

    response = client.get(url, follow=True)

    assert response.status_code == 200
    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "unsafe" not in response["Content-Security-Policy"]


# Every CSP violation the page reports, whichever directive: Chromium's console messages about
# them are not console API calls, so Playwright does not see those; the DOM event it fires is
# reliable.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${location.pathname}: ${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
  );
});
"""


@pytest.fixture
def csp_browser(chromium, live_server, django_user_model) -> tuple:
    """Chromium signed in as a superuser, and the CSP violations its pages report."""
    django_user_model.objects.create_superuser("root", password="browser-csp-password")
    violations: list[str] = []
    page = chromium.new_page()
    page.set_default_timeout(20_000)
    page.expose_function("reportCspViolation", lambda text: violations.append(text))
    page.add_init_script(REPORT_VIOLATIONS)
    page.goto(f"{live_server.url}{LOGIN}")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("browser-csp-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/compose/")
    return page, live_server.url, violations


def visit(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(200)  # violation events are dispatched after the load event too


@pytest.mark.django_db(transaction=True)
def test_pages_run_under_the_policy_without_a_violation(csp_browser, rc_settings):
    page, base, violations = csp_browser
    get_access_token()
    token = RingCentralToken.objects.get()

    page.get_by_label("To").fill("+16505550101")  # the live preview fetches from the site
    page.locator("#recipients").get_by_text("+16505550101").wait_for()
    for path in [
        "/messages/",
        "/admin/",
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        reverse("admin:auth_tokens_ringcentraltoken_changelist"),
        token_change_path(token),
    ]:
        visit(page, f"{base}{path}")
    # The check itself works: an inline style added now is reported.
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_timeout(200)

    assert violations == [f"{token_change_path(token)}: style-src-attr blocked inline"]


def token_change_path(token: RingCentralToken) -> str:
    return reverse("admin:auth_tokens_ringcentraltoken_change", args=[token.pk])


# -- sessions ---------------------------------------------------------------------------------


def session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_a_session_idle_past_the_timeout_is_signed_out(client, django_user_model, settings):
    client.force_login(django_user_model.objects.create_superuser("root", password="x-7"))
    timeout = timedelta(seconds=settings.SESSION_IDLE_TIMEOUT_SECONDS)

    assert client.get("/compose/").status_code == 200
    assert abs(session_row(client).expire_date - (timezone.now() + timeout)) < timedelta(seconds=5)

    # Idle for all but ten seconds of the timeout: the next request counts as activity.
    Session.objects.update(expire_date=timezone.now() + timedelta(seconds=10))
    assert client.get("/compose/").status_code == 200
    assert abs(session_row(client).expire_date - (timezone.now() + timeout)) < timedelta(seconds=5)

    # Idle past the timeout: signed out.
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/compose/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_the_session_cookie_ends_with_the_browser(client, people):
    response = client.post(LOGIN, {"username": "pat", "password": people["pat"]})

    cookie = response.cookies["sessionid"]
    assert response.status_code == 302
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""


def test_the_default_idle_timeout_is_one_hour(settings):
    assert settings.SESSION_IDLE_TIMEOUT_SECONDS == 3600
    assert settings.SESSION_COOKIE_AGE == 3600
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


# -- check --deploy ---------------------------------------------------------------------------


def test_check_deploy_with_the_documented_production_settings_warns_only_about_hsts(
    project_root, base_env
):
    base_env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50)[:50],
            "ALLOWED_HOSTS": "sms.example.com",
            "SECURE_COOKIES": "true",
        }
    )

    result = run_manage(project_root, base_env, "check", "--deploy")

    output = result.stdout + result.stderr
    ids = sorted(
        line.split("(", 1)[1].split(")", 1)[0] for line in output.splitlines() if "?: (" in line
    )
    assert ids == ["security.W005", "security.W021"], output
    assert "System check identified 2 issues" in output
