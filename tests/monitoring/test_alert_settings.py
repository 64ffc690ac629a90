"""The alert settings in smsapp/settings.py (ADMINS, EMAIL_URL): read at start, one line when
wrong, never echoing a password."""

from __future__ import annotations

import pytest

from tests.smsapp.test_settings import config_error, print_setting
from tests.support.processes import run_manage

pytestmark = pytest.mark.processes


def test_admins_with_and_without_names(base_env):
    base_env["ADMINS"] = "Ops Team <ops@example.com>, kim@example.com"

    assert print_setting(base_env, "settings.ADMINS") == [
        ["Ops Team", "ops@example.com"],
        ["kim@example.com", "kim@example.com"],
    ]


def test_a_malformed_admin_address_is_one_line_error(base_env):
    base_env["ADMINS"] = "ops@example.com, not an address"

    line = config_error(run_manage("check", env=base_env), "ADMINS")

    assert "'not an address'" in line
    assert "Name <address>" in line


def test_email_url_sets_the_smtp_server_and_is_never_echoed(base_env):
    base_env["EMAIL_URL"] = "smtp+tls://alerts%40example.com:hunter2@smtp.example.com:587"

    assert print_setting(
        base_env,
        "[settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, "
        "settings.EMAIL_HOST_USER, settings.EMAIL_USE_TLS]",
    ) == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        587,
        "alerts@example.com",
        True,
    ]
    base_env["EMAIL_URL"] = "pigeon://alerts:hunter2@example.com"
    result = run_manage("check", env=base_env)
    config_error(result, "EMAIL_URL")
    assert "hunter2" not in result.stdout + result.stderr
