"""token_status, token_refresh and ringcentral_check against the simulator, over HTTP.

ringcentral_check lives in smsapp; its token steps (1 to 4) are tested here, its sender step in
tests/smsapp/test_sender_check.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from auth_tokens.models import RingCentralToken
from auth_tokens.services import get_access_token
from ringcentral_sim import SimulatorControl
from ringcentral_sim import config as sim
from tests.auth_tokens.command_output import (
    assert_no_secrets,
    outcomes,
    run,
    step_text,
    token_requests,
)

pytestmark = pytest.mark.django_db

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REQUIRED_JSON_KEYS = {
    "state",
    "access_expires_at",
    "refresh_expires_at",
    "last_refresh_at",
    "last_login_at",
    "last_error",
}


# -- token_status --------------------------------------------------------------------------


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


@pytest.mark.django_db(transaction=True)
def test_token_status_json_stdout_is_pure_json_from_manage_py(
    rc_settings, simulator: SimulatorControl
) -> None:
    get_access_token()  # committed: the subprocess reads the same test database
    row = RingCentralToken.objects.get()
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"], safe="") + (
        f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": (
            f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
            f"{db['NAME']}"
        ),
        "SECRET_KEY": settings.SECRET_KEY,
        **sim.app_environment(simulator.url),
    }

    done = subprocess.run(
        [sys.executable, "manage.py", "token_status", "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # the whole of stdout, nothing before or after
    assert data["state"] == "healthy"
    assert data["access_fingerprint"] == row.access_fingerprint
    assert_no_secrets(done.stdout + done.stderr)


# -- token_refresh -------------------------------------------------------------------------


def test_token_refresh_refreshes_once_and_prints_only_the_masked_token(
    rc_settings, simulator: SimulatorControl
) -> None:
    get_access_token()

    out, error = run("token_refresh")

    assert error is None
    row = RingCentralToken.objects.get()
    assert row.refresh_count == 1
    assert token_requests(simulator)["refresh_token"] == {"ok": 1}
    assert out.count("\n") == 1
    assert row.access_fingerprint in out
    assert "by refresh" in out
    assert_no_secrets(out)


def test_token_refresh_login_logs_in_again(rc_settings, simulator: SimulatorControl) -> None:
    get_access_token()

    out, error = run("token_refresh", "--login")

    assert error is None
    assert RingCentralToken.objects.get().login_count == 2
    assert token_requests(simulator)["password"] == {"ok": 2}
    assert "by password login" in out
    assert_no_secrets(out)


def test_token_refresh_login_with_wrong_password_fails_in_one_line_naming_server_and_user(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.RINGCENTRAL_PASSWORD = "wrong-pass-77"

    out, error = run("token_refresh", "--login")

    assert error is not None
    message = str(error)
    assert "\n" not in message
    assert "OAU-140" in message
    assert simulator.url in message
    assert sim.DEFAULT_USERNAME in message
    assert "wrong-pass-77" not in message + out
    assert_no_secrets(message + out)


# -- ringcentral_check ---------------------------------------------------------------------


def test_ringcentral_check_passes_every_step_against_the_simulator(
    rc_settings, simulator: SimulatorControl
) -> None:
    out, error = run("ringcentral_check")

    assert error is None, out
    assert outcomes(out) == {1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "ok"}
    assert out.count("[ok]") == 5
    assert "password grant" in step_text(out, 1)
    assert "RINGCENTRAL_JWT" in step_text(out, 1)  # the password grant is end-of-life
    assert "custom server" in step_text(out, 2)
    assert sim.DEFAULT_FROM_NUMBER in step_text(out, 5)
    assert token_requests(simulator)["password"] == {"ok": 1}
    assert_no_secrets(out)


def test_ringcentral_check_reuses_a_stored_token_unless_asked_for_a_fresh_login(
    rc_settings, simulator: SimulatorControl
) -> None:
    get_access_token()

    out, error = run("ringcentral_check")
    assert error is None, out
    assert "token valid, obtained by password login" in step_text(out, 4)
    assert "--fresh-login" in step_text(out, 3)
    assert token_requests(simulator)["password"] == {"ok": 1}

    out, error = run("ringcentral_check", "--fresh-login")
    assert error is None, out
    assert outcomes(out) == {1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "ok"}
    assert token_requests(simulator)["password"] == {"ok": 2}
    assert_no_secrets(out)


def test_ringcentral_check_fails_client_step_on_a_wrong_secret_and_skips_the_rest(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.RINGCENTRAL_CLIENT_SECRET = "wrong-secret-77"

    out, error = run("ringcentral_check")

    assert error is not None
    assert outcomes(out) == {1: "ok", 2: "ok", 3: "FAIL", 4: "skip", 5: "skip"}
    client_step = step_text(out, 3)
    assert "OAU-146" in client_step
    assert re.search(r"fix: .*RINGCENTRAL_CLIENT_SECRET", client_step)
    assert token_requests(simulator)["password"] == {"OAU-146": 1}
    assert "wrong-secret-77" not in out
    assert_no_secrets(out)


def test_ringcentral_check_fails_login_step_on_a_wrong_password_after_accepting_the_client(
    rc_settings,
) -> None:
    rc_settings.RINGCENTRAL_PASSWORD = "wrong-pass-77"

    out, error = run("ringcentral_check")

    assert error is not None
    assert outcomes(out) == {1: "ok", 2: "ok", 3: "ok", 4: "FAIL", 5: "skip"}
    login_step = step_text(out, 4)
    assert "OAU-140" in login_step
    assert re.search(r"fix: .*RINGCENTRAL_PASSWORD", login_step)
    assert sim.DEFAULT_USERNAME in login_step
    assert "wrong-pass-77" not in out

    # Run again: the block holds the same credentials back, and the check says how to lift it.
    out, error = run("ringcentral_check")
    assert outcomes(out)[4] == "FAIL"
    assert "Log in again" in step_text(out, 4)


def test_ringcentral_check_fails_server_step_when_nothing_listens(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.RINGCENTRAL_SERVER_URL = "http://127.0.0.1:9"
    rc_settings.RINGCENTRAL_HTTP_TIMEOUT = 2.0

    out, error = run("ringcentral_check")

    assert error is not None
    assert outcomes(out) == {1: "ok", 2: "FAIL", 3: "skip", 4: "skip", 5: "skip"}
    assert "check RINGCENTRAL_SERVER_URL" in step_text(out, 2)
    assert "http://127.0.0.1:9" in step_text(out, 2)
    assert token_requests(simulator) == {}
    assert_no_secrets(out)


def test_ringcentral_check_fails_settings_step_naming_the_missing_client_id(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.RINGCENTRAL_CLIENT_ID = ""

    out, error = run("ringcentral_check")

    assert error is not None
    assert outcomes(out) == {1: "FAIL", 2: "ok", 3: "skip", 4: "skip", 5: "skip"}
    assert "missing RINGCENTRAL_CLIENT_ID" in step_text(out, 1)
    assert "RINGCENTRAL_CLIENT_SECRET" not in step_text(out, 1)
    assert token_requests(simulator) == {}
    assert_no_secrets(out)


# -- the password grant is legacy: always flagged, and the JWT is the fix -----------------------


def test_ringcentral_check_warns_about_the_password_grant_even_when_it_works(
    rc_settings, simulator: SimulatorControl
) -> None:
    out, error = run("ringcentral_check")

    assert error is None, out
    assert outcomes(out) == {1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "ok"}
    warning = re.search(r"^\s+warning: (.*)$", step_text(out, 1), re.MULTILINE)
    assert warning, out
    assert "password grant" in warning.group(1)
    assert "RINGCENTRAL_JWT" in warning.group(1)
    assert re.search(r"ready to send SMS.*RINGCENTRAL_JWT", out.splitlines()[-1])
    assert_no_secrets(out)


def test_ringcentral_check_with_a_jwt_has_no_password_grant_warning(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.RINGCENTRAL_JWT = sim.DEFAULT_JWT

    out, error = run("ringcentral_check")

    assert error is None, out
    assert outcomes(out) == {1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "ok"}
    assert "warning:" not in out
    assert "legacy" not in out
    assert out.splitlines()[-1].endswith("RingCentral is ready to send SMS.")
    assert token_requests(simulator)["jwt"] == {"ok": 1}
    assert sim.DEFAULT_JWT not in out


def test_ringcentral_check_names_the_jwt_as_the_fix_when_the_password_grant_is_refused(
    rc_settings, simulator: SimulatorControl
) -> None:
    simulator.configure(password_grant_allowed=False)

    out, error = run("ringcentral_check")

    assert error is not None
    assert outcomes(out) == {1: "ok", 2: "ok", 3: "ok", 4: "FAIL", 5: "skip"}
    login_step = step_text(out, 4)
    assert "OAU-251" in login_step
    assert re.search(r"fix: .*set RINGCENTRAL_JWT", login_step)
    assert "RINGCENTRAL_JWT" in step_text(out, 1)  # the standing warning too
    assert token_requests(simulator)["password"] == {"OAU-251": 1}
    assert_no_secrets(out)

    # Following the fix works.
    rc_settings.RINGCENTRAL_JWT = sim.DEFAULT_JWT
    out, error = run("ringcentral_check")
    assert error is None, out
    assert outcomes(out) == {1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "ok"}


def test_token_refresh_login_refused_password_grant_names_the_jwt_in_one_line(
    rc_settings, simulator: SimulatorControl
) -> None:
    simulator.configure(password_grant_allowed=False)

    out, error = run("token_refresh", "--login")

    assert error is not None
    message = str(error)
    assert "\n" not in message
    assert "OAU-251" in message
    assert "RINGCENTRAL_JWT" in message
    assert_no_secrets(message + out)


def test_ringcentral_check_unknown_extension_is_oau_136_and_points_at_the_extension(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.RINGCENTRAL_EXTENSION = "999"

    out, error = run("ringcentral_check")

    assert error is not None
    assert outcomes(out) == {1: "ok", 2: "ok", 3: "ok", 4: "FAIL", 5: "skip"}
    login_step = step_text(out, 4)
    assert "OAU-136" in login_step
    assert re.search(r"fix: .*no extension 999 .*Check RINGCENTRAL_EXTENSION", login_step)
    assert "administrator to enable" not in login_step
    assert_no_secrets(out)


def test_ringcentral_check_disabled_extension_is_oau_141_and_needs_the_administrator(
    rc_settings, simulator: SimulatorControl
) -> None:
    user = sim.default_user() | {"state": "Disabled"}
    simulator.configure(users=[user])

    out, error = run("ringcentral_check")

    assert error is not None
    assert outcomes(out)[4] == "FAIL"
    login_step = step_text(out, 4)
    assert "OAU-141" in login_step
    assert re.search(r"fix: .*administrator to enable the extension", login_step)
    assert "RINGCENTRAL_EXTENSION" not in login_step
    assert_no_secrets(out)
