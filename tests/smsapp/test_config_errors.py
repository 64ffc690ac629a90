"""A bad configuration stops every entry point with one line that says what to set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet


def run_manage(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line_config_error(result: subprocess.CompletedProcess[str], names: str) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: ")
    assert names in lines[0]
    return lines[0]


def print_setting(root: Path, env: dict[str, str], expression: str) -> Any:
    marker = "SETTING="
    code = (
        "import json; from django.conf import settings; "
        f"print({marker!r} + json.dumps({expression}))"
    )
    result = run_manage(root, env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith(marker))
    return json.loads(line.removeprefix(marker))


def test_missing_secret_key_with_debug_off_is_one_line_error(project_root, base_env):
    del base_env["SECRET_KEY"]

    result = run_manage(project_root, base_env, "check")

    line = assert_one_line_config_error(result, "SECRET_KEY")
    assert "DEBUG=true" in line


def test_empty_secret_key_with_debug_off_is_one_line_error(project_root, base_env):
    base_env["SECRET_KEY"] = ""
    base_env["DEBUG"] = "false"

    result = run_manage(project_root, base_env, "check")

    assert_one_line_config_error(result, "SECRET_KEY")


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
def test_malformed_database_url_is_one_line_error_that_hides_the_url(project_root, base_env, url):
    base_env["DATABASE_URL"] = url

    result = run_manage(project_root, base_env, "check")

    line = assert_one_line_config_error(result, "DATABASE_URL")
    assert "postgres://USER:PASSWORD@HOST:5432/NAME" in line
    assert "hunter2" not in result.stderr + result.stdout
    assert "db.example.com" not in line


def test_malformed_debug_is_one_line_error(project_root, base_env):
    base_env["DEBUG"] = "maybe"

    result = run_manage(project_root, base_env, "check")

    assert_one_line_config_error(result, "DEBUG")


def test_good_config_passes_check(project_root, base_env):
    result = run_manage(project_root, base_env, "check")

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    assert "Traceback" not in result.stderr


def test_debug_without_secret_key_uses_labelled_insecure_key(project_root, base_env):
    del base_env["SECRET_KEY"]
    base_env["DEBUG"] = "true"

    secret_key = print_setting(project_root, base_env, "settings.SECRET_KEY")

    assert isinstance(secret_key, str)
    assert secret_key.startswith("django-insecure-")


def test_sqlite_database_url_serializes_writers(project_root, base_env, tmp_path):
    base_env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"

    database = print_setting(project_root, base_env, "settings.DATABASES['default']")

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "db.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database["OPTIONS"]["timeout"] == 20


def test_default_database_is_sqlite_in_project_root_with_immediate_transactions(
    project_root, base_env
):
    del base_env["DATABASE_URL"]

    database = print_setting(project_root, base_env, "settings.DATABASES['default']")

    assert database["NAME"] == str(project_root / "db.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgres_database_url_is_parsed(project_root, base_env):
    base_env["DATABASE_URL"] = "postgres://app:s3cret@db.internal:6543/smsapp"

    database = print_setting(project_root, base_env, "settings.DATABASES['default']")

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.internal", 6543, "smsapp")
    assert (database["USER"], database["PASSWORD"]) == ("app", "s3cret")


@pytest.mark.parametrize(
    "url",
    [
        "postgres://postgres:hunter2@127.0.0.1:5432/smsapp_no_such_database",
        "postgres://postgres:hunter2@127.0.0.1:9/smsapp",  # nothing listens on port 9
    ],
)
def test_an_unreachable_database_is_one_line_without_the_password(project_root, base_env, url):
    base_env["DATABASE_URL"] = url

    result = run_manage(project_root, base_env, "migrate")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Database error: ")
    assert "DATABASE_URL" in lines[0]
    assert "hunter2" not in result.stderr


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
]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_a_setting_out_of_its_rule_is_one_line_error(project_root, base_env, name, value):
    base_env[name] = value

    result = run_manage(project_root, base_env, "check")

    line = assert_one_line_config_error(result, name)
    assert line.startswith(f"Configuration error: {name} ")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TOKEN_ENCRYPTION_KEY", "not-a-fernet-key-hunter2"),
        # The second key is broken: the first, valid one must not be echoed either.
        ("TOKEN_ENCRYPTION_KEY", "{valid},hunter2"),
        ("RINGCENTRAL_SERVER_URL", "https://app:hunter2@platform.ringcentral.com"),
        ("RINGCENTRAL_SERVER_URL", "https://platform.ringcentral.com/hunter2"),
        ("RINGCENTRAL_SERVER_URL", "hunter2"),
    ],
)
def test_a_refused_secret_is_never_echoed(project_root, base_env, name, value):
    valid = Fernet.generate_key().decode()
    base_env[name] = value.format(valid=valid)

    result = run_manage(project_root, base_env, "check")

    assert_one_line_config_error(result, name)
    assert "hunter2" not in result.stderr + result.stdout
    assert valid not in result.stderr + result.stdout


@pytest.mark.parametrize("hosts", ["sms.example.com", "localhost,sms.example.com", "*"])
def test_debug_with_hosts_beyond_this_machine_is_refused(project_root, base_env, hosts):
    base_env.update(DEBUG="true", ALLOWED_HOSTS=hosts)

    result = run_manage(project_root, base_env, "check")

    line = assert_one_line_config_error(result, "DEBUG=true")
    assert "ALLOWED_HOSTS" in line
    assert "shows settings" in line


def test_debug_with_local_hosts_only_is_allowed(project_root, base_env):
    base_env.update(DEBUG="true", ALLOWED_HOSTS="localhost,.localhost,a.localhost,127.0.0.1,[::1]")

    result = run_manage(project_root, base_env, "check")

    assert result.returncode == 0, result.stderr


def test_good_values_are_taken_as_typed(project_root, base_env):
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

    shown = print_setting(project_root, base_env, f"[getattr(settings, n) for n in {names!r}]")

    assert shown == ["http://127.0.0.1:8765/", keys, "GB", 100000, 0.5, 900, None]
