"""auth_tokens/management/commands/token_status.py: the token's state in words for people,
JSON for scripts and monitoring, never a secret."""

from __future__ import annotations

import json
import re
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from auth_tokens.models import RingCentralToken
from auth_tokens.services import get_access_token
from ringcentral_sim import SimulatorControl
from ringcentral_sim import config as sim
from tests.support.commands import assert_no_secrets, run
from tests.support.processes import run_manage, shared_database_url

pytestmark = pytest.mark.django_db

REQUIRED_JSON_KEYS = {
    "state",
    "access_expires_at",
    "refresh_expires_at",
    "last_refresh_at",
    "last_login_at",
    "last_error",
}


def test_token_status_json_says_not_logged_in_before_first_use(rc_settings) -> None:
    out, error = run("token_status", "--json")

    assert error is None
    data = json.loads(out)
    assert data.keys() >= REQUIRED_JSON_KEYS
    assert data["state"] == "not_logged_in"
    assert data["access_expires_at"] is None


def test_token_status_json_is_healthy_after_a_login(rc_settings) -> None:
    get_access_token()
    row = RingCentralToken.objects.get()

    out, error = run("token_status", "--json")

    assert error is None
    data = json.loads(out)
    assert data.keys() >= REQUIRED_JSON_KEYS
    assert data["state"] == "healthy"
    assert datetime.fromisoformat(data["access_expires_at"]) == row.access_expires_at
    assert datetime.fromisoformat(data["last_login_at"]) == row.last_login_at
    assert data["last_refresh_at"] is None
    assert data["last_error"] is None
    assert data["access_fingerprint"] == row.access_fingerprint
    assert_no_secrets(out)


def test_token_status_human_form_shows_summary_countdowns_and_fingerprints(
    rc_settings, simulator: SimulatorControl
) -> None:
    get_access_token()
    row = RingCentralToken.objects.get()

    out, error = run("token_status")

    assert error is None
    assert re.search(r"^State:\s+healthy", out, re.MULTILINE)
    assert re.search(r"^Access expires:\s+\S+ \S+ UTC \(in \d+ min\)$", out, re.MULTILINE)
    assert re.search(r"^Refresh expires:\s+.*\(in 6 d 23 h\)$", out, re.MULTILINE)
    assert re.search(r"^Last refresh:\s+never$", out, re.MULTILINE)
    assert simulator.url in out
    assert sim.DEFAULT_USERNAME in out
    assert "RINGCENTRAL_JWT" in out  # the password grant is end-of-life: say so
    assert row.access_fingerprint in out
    assert_no_secrets(out)


def test_token_status_human_form_shows_last_error_and_hint(rc_settings) -> None:
    rc_settings.RINGCENTRAL_PASSWORD = "wrong-pass-77"
    with pytest.raises(CommandError):
        call_command("token_refresh", stdout=StringIO())

    out, error = run("token_status")

    assert error is None  # a report, even of a broken setup
    assert re.search(r"^State:\s+credentials rejected: action needed", out, re.MULTILINE)
    assert re.search(r"^Last error:\s+OAU-140: ", out, re.MULTILINE)
    assert re.search(r"^What to do:\s+.*RINGCENTRAL_PASSWORD", out, re.MULTILINE)
    assert "wrong-pass-77" not in out


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_token_status_json_stdout_is_pure_json_from_manage_py(
    rc_settings, simulator: SimulatorControl, base_env
) -> None:
    get_access_token()  # committed: the subprocess reads the same test database
    row = RingCentralToken.objects.get()
    env = {
        **base_env,
        "DATABASE_URL": shared_database_url(),
        **sim.app_environment(simulator.url),
    }

    done = run_manage("token_status", "--json", env=env)

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # the whole of stdout, nothing before or after
    assert data["state"] == "healthy"
    assert data["access_fingerprint"] == row.access_fingerprint
    assert_no_secrets(done.stdout + done.stderr)
