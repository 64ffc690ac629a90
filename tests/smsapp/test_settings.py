"""smsapp/settings.py: every setting checked at start (one line naming it, never a secret),
sign-in throttling, the Content-Security-Policy, idle sessions, and `check --deploy`."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from cryptography.fernet import Fernet
from django.contrib.sessions.models import Session
from django.db.models import F
from django.test import Client, RequestFactory
from django.utils import timezone

from smsapp.settings import client_ip_address
from tests.support.processes import one_line_error, run_manage

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


# -- at start: a bad value stops every entry point with one line (manage.py processes) ---------


def config_error(result, name: str) -> str:
    """The one line a refused configuration printed, which names `name`."""
    line = one_line_error(result, "Configuration error: ")
    assert name in line
    return line


def print_setting(env: dict[str, str], expression: str) -> Any:
    """The value of `expression` (over django.conf.settings) in a process run with `env`."""
    marker = "SETTING="
    code = (
        "import json; from django.conf import settings; "
        f"print({marker!r} + json.dumps({expression}))"
    )
    result = run_manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith(marker))
    return json.loads(line.removeprefix(marker))


@pytest.mark.processes
def test_missing_secret_key_with_debug_off_is_one_line_error(base_env):
    del base_env["SECRET_KEY"]

    result = run_manage("check", env=base_env)

    line = config_error(result, "SECRET_KEY")
    assert "DEBUG=true" in line


@pytest.mark.processes
def test_empty_secret_key_with_debug_off_is_one_line_error(base_env):
    base_env["SECRET_KEY"] = ""
    base_env["DEBUG"] = "false"

    result = run_manage("check", env=base_env)

    config_error(result, "SECRET_KEY")


@pytest.mark.processes
@pytest.mark.parametrize(
    "url",
    [
        "postgres//x",
        "not-a-url",
        "mysql://u:hunter2@db.example.com/smsapp",
        "postgres://u:hunter2@db.example.com/",
        "postgres://u:hunter2@db.example.com:54x2/smsapp",
        # The "@host" is missing, so the password parses as the port: a naive parser's error
        # message ("Port could not be cast to integer value as 'hunter2'") would leak it.
        "postgres://u:hunter2/smsapp",
        "u:hunter2@db.example.com/smsapp",
        "sqlite://",
    ],
)
def test_malformed_database_url_is_one_line_error_that_hides_the_url(base_env, url):
    base_env["DATABASE_URL"] = url

    result = run_manage("check", env=base_env)

    line = config_error(result, "DATABASE_URL")
    assert "postgres://USER:PASSWORD@HOST:5432/NAME" in line
    assert "hunter2" not in result.stderr + result.stdout
    assert "db.example.com" not in line


@pytest.mark.processes
def test_malformed_debug_is_one_line_error(base_env):
    base_env["DEBUG"] = "maybe"

    result = run_manage("check", env=base_env)

    config_error(result, "DEBUG")


@pytest.mark.processes
def test_good_config_passes_check(base_env):
    result = run_manage("check", env=base_env)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.processes
def test_debug_without_secret_key_uses_labelled_insecure_key(base_env):
    del base_env["SECRET_KEY"]
    base_env["DEBUG"] = "true"

    secret_key = print_setting(base_env, "settings.SECRET_KEY")

    assert isinstance(secret_key, str)
    assert secret_key.startswith("django-insecure-")


@pytest.mark.processes
def test_sqlite_database_url_serializes_writers(base_env, tmp_path):
    base_env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"

    database = print_setting(base_env, "settings.DATABASES['default']")

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "db.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database["OPTIONS"]["timeout"] == 20


@pytest.mark.processes
def test_default_database_is_sqlite_in_project_root_with_immediate_transactions(
    project_root, base_env
):
    del base_env["DATABASE_URL"]

    database = print_setting(base_env, "settings.DATABASES['default']")

    assert database["NAME"] == str(project_root / "db.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.processes
def test_postgres_database_url_is_parsed(base_env):
    base_env["DATABASE_URL"] = "postgres://app:s3cret@db.internal:6543/smsapp"

    database = print_setting(base_env, "settings.DATABASES['default']")

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.internal", 6543, "smsapp")
    assert (database["USER"], database["PASSWORD"]) == ("app", "s3cret")


# Every numeric setting: finite, in range, whole where the code counts. Each bad value stops
# start-up with one line naming the setting (these used to start and fail later: inf ended in an
# OverflowError during a send, 0.5 texts a minute became 0 and broke the rate limiter).
BAD_VALUES = [
    ("SMS_RATE_LIMIT_PER_MINUTE", "inf"),
    ("SMS_RATE_LIMIT_PER_MINUTE", "0.5"),
    ("SMS_RATE_LIMIT_PER_MINUTE", "0"),
    ("SMS_MAX_ATTEMPTS", "inf"),
    ("SMS_MAX_ATTEMPTS", "2.5"),
    ("RINGCENTRAL_HTTP_TIMEOUT", "inf"),
    ("RINGCENTRAL_HTTP_TIMEOUT", "0"),
    ("RINGCENTRAL_HTTP_TIMEOUT", "121"),
    ("RINGCENTRAL_HTTP_TIMEOUT", "nan"),
    ("RINGCENTRAL_HTTP_TIMEOUT", "fifteen"),
    ("SMS_RETRY_BASE_SECONDS", "-1"),
    ("SMS_RETRY_MAX_SECONDS", "1e300"),
    ("SMS_AUTH_HOLD_SECONDS", "inf"),
    ("SMS_LEASE_SECONDS", "0"),
    ("SMS_STALE_SENDING_SECONDS", "inf"),
    ("SMS_STALE_SENDING_SECONDS", "0"),
    ("SMS_UNCERTAIN_SETTLE_SECONDS", "-5"),
    ("SMS_REDISPATCH_SECONDS", "inf"),
    ("CELERY_VISIBILITY_TIMEOUT", "inf"),
    ("SMS_DISPATCH_INTERVAL", "0"),
    ("SMS_SWEEP_INTERVAL", "inf"),
    ("SMS_STATUS_POLL_INTERVAL", "-1"),
    ("SMS_MAX_RECIPIENTS", "0"),
    ("SMS_MAX_RECIPIENTS", "1e9"),
    ("SMS_CONFIRM_RECIPIENTS_ABOVE", "-1"),
    ("SMS_MAX_SCHEDULE_DAYS", "3000000"),
    ("SESSION_IDLE_TIMEOUT_SECONDS", "0"),
    ("TRUSTED_PROXY_COUNT", "-1"),
    ("SMS_DEFAULT_REGION", "ZZ"),
    ("SMS_DEFAULT_REGION", "USA"),
    ("RINGCENTRAL_SERVER_URL", "not-a-url"),
    ("RINGCENTRAL_SERVER_URL", "ftp://platform.ringcentral.com"),
    ("RINGCENTRAL_SERVER_URL", "https://"),
    ("RINGCENTRAL_SERVER_URL", "https://platform.ringcentral.com/restapi"),
    ("RINGCENTRAL_SERVER_URL", "https://platform.ringcentral.com?x=1"),
    ("RINGCENTRAL_SERVER_URL", "https://platform.ringcentral.com:44x3"),
    ("TOKEN_ENCRYPTION_KEY", "garbage"),
    ("RINGCENTRAL_WEBHOOK_URL", "sms.example.com/ringcentral/webhook"),
    ("RINGCENTRAL_WEBHOOK_URL", "https://"),
    ("RINGCENTRAL_WEBHOOK_URL", "https://user:secret@sms.example.com/ringcentral/webhook"),
    ("INBOUND_SYNC_INTERVAL", "0"),
    ("INBOUND_SYNC_INTERVAL_WITH_WEBHOOK", "inf"),
    ("RINGCENTRAL_WEBHOOK_EXPIRES_IN", "10"),
    ("INBOUND_WEBHOOK_CHECK_INTERVAL", "-1"),
    ("SMS_MAX_BULK_RECIPIENTS", "0"),
    ("SMS_A2P_FROM_NUMBER", "6505550120"),
    ("SMS_A2P_BATCH_SIZE", "10001"),
]


@pytest.mark.processes
@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_a_setting_out_of_its_rule_is_one_line_error(base_env, name, value):
    base_env[name] = value

    result = run_manage("check", env=base_env)

    line = config_error(result, name)
    assert line.startswith(f"Configuration error: {name} ")


@pytest.mark.processes
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TOKEN_ENCRYPTION_KEY", "not-a-fernet-key-hunter2"),
        # The second key is broken: the first, valid one must not be echoed either.
        ("TOKEN_ENCRYPTION_KEY", "{valid},hunter2"),
        ("RINGCENTRAL_SERVER_URL", "https://app:hunter2@platform.ringcentral.com"),
        ("RINGCENTRAL_SERVER_URL", "https://platform.ringcentral.com/hunter2"),
        ("RINGCENTRAL_SERVER_URL", "hunter2"),
        ("RINGCENTRAL_WEBHOOK_URL", "https://app:hunter2@sms.example.com/ringcentral/webhook"),
        ("RINGCENTRAL_WEBHOOK_URL", "hunter2"),
    ],
)
def test_a_refused_secret_is_never_echoed(base_env, name, value):
    valid = Fernet.generate_key().decode()
    base_env[name] = value.format(valid=valid)

    result = run_manage("check", env=base_env)

    config_error(result, name)
    assert "hunter2" not in result.stderr + result.stdout
    assert valid not in result.stderr + result.stdout


@pytest.mark.processes
@pytest.mark.parametrize("hosts", ["sms.example.com", "localhost,sms.example.com", "*"])
def test_debug_with_hosts_beyond_this_machine_is_refused(base_env, hosts):
    base_env.update(DEBUG="true", ALLOWED_HOSTS=hosts)

    result = run_manage("check", env=base_env)

    line = config_error(result, "DEBUG=true")
    assert "ALLOWED_HOSTS" in line
    assert "shows settings" in line


@pytest.mark.processes
def test_debug_with_local_hosts_only_is_allowed(base_env):
    base_env.update(DEBUG="true", ALLOWED_HOSTS="localhost,.localhost,a.localhost,127.0.0.1,[::1]")

    result = run_manage("check", env=base_env)

    assert result.returncode == 0, result.stderr


@pytest.mark.processes
def test_good_values_are_taken_as_typed(base_env):
    keys = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    base_env.update(
        {
            "RINGCENTRAL_SERVER_URL": "http://127.0.0.1:8765/",
            "TOKEN_ENCRYPTION_KEY": keys,
            "SMS_DEFAULT_REGION": "gb",
            "SMS_RATE_LIMIT_PER_MINUTE": "100000",
            "RINGCENTRAL_HTTP_TIMEOUT": "0.5",
            "SESSION_IDLE_TIMEOUT_SECONDS": "900",
        }
    )
    names = (
        "RINGCENTRAL_SERVER_URL",
        "TOKEN_ENCRYPTION_KEY",
        "SMS_DEFAULT_REGION",
        "SMS_RATE_LIMIT_PER_MINUTE",
        "RINGCENTRAL_HTTP_TIMEOUT",
        "SESSION_COOKIE_AGE",
        "SMS_STALE_SENDING_SECONDS",
    )

    shown = print_setting(base_env, f"[getattr(settings, n) for n in {names!r}]")

    assert shown == ["http://127.0.0.1:8765/", keys, "GB", 100000, 0.5, 900, None]


@pytest.mark.processes
def test_check_deploy_with_the_documented_production_settings_warns_only_about_hsts(base_env):
    base_env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50)[:50],
            "ALLOWED_HOSTS": "sms.example.com",
            "SECURE_COOKIES": "true",
        }
    )

    result = run_manage("check", "--deploy", env=base_env)

    output = result.stdout + result.stderr
    ids = sorted(
        line.split("(", 1)[1].split(")", 1)[0] for line in output.splitlines() if "?: (" in line
    )
    assert ids == ["security.W005", "security.W021"], output
    assert "System check identified 2 issues" in output


# -- sign-in throttling (django-axes): per user name and per address ---------------------------


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


@pytest.mark.django_db
@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_five_wrong_passwords_lock_out_even_the_right_one(people, url):
    answers = [sign_in(url, "pat", f"wrong-{attempt}").status_code for attempt in range(5)]
    right = sign_in(url, "pat", people["pat"])

    assert answers[:4] == [200] * 4  # the form again, with its error
    assert answers[4] == 429
    assert_locked_out(right)
    assert "_auth_user_id" not in right.client.session


@pytest.mark.django_db
@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_the_address_is_locked_out_for_every_user_name(people, url):
    for attempt in range(5):
        sign_in(url, "pat", f"wrong-{attempt}", address="10.0.0.1")

    assert_locked_out(sign_in(url, "sam", people["sam"], address="10.0.0.1"))
    assert_signed_in(sign_in(url, "sam", people["sam"], address="10.0.0.2"), url)


@pytest.mark.django_db
def test_the_user_name_is_locked_out_from_every_address(people):
    for attempt in range(5):
        sign_in(LOGIN, "pat", f"wrong-{attempt}", address=f"10.0.1.{attempt}")

    assert_locked_out(sign_in(LOGIN, "pat", people["pat"], address="10.0.2.1"))
    assert_signed_in(sign_in(LOGIN, "sam", people["sam"], address="10.0.2.1"), LOGIN)


def age_attempts(minutes: int) -> None:
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_forwarded_for_is_ignored_without_a_trusted_proxy(people, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for attempt in range(5):
        sign_in(LOGIN, f"nobody{attempt}", "x", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")

    assert_locked_out(sign_in(LOGIN, "sam", people["sam"], HTTP_X_FORWARDED_FOR="192.0.2.99"))


@pytest.mark.django_db
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


# -- Content-Security-Policy (what Chromium makes of it: tests/end_to_end/test_browser.py) -----


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
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


# -- sessions ----------------------------------------------------------------------------------


def session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


@pytest.mark.django_db
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


@pytest.mark.django_db
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


@pytest.mark.processes
@pytest.mark.parametrize(("value", "expected"), [("true", True), ("", False)])
def test_behind_a_transaction_pooler_server_side_cursors_are_off(base_env, value, expected):
    base_env["DATABASE_BEHIND_TRANSACTION_POOLER"] = value
    expression = "settings.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS']"
    assert print_setting(base_env, expression) is expected
