"""auth_tokens/setup_check.py: ringcentral_check's token steps (1 to 4: settings, server,
client, login) against the simulator over HTTP. The command lives in smsapp; its sender step
(5) is tested in tests/smsapp/test_sender_check.py."""

from __future__ import annotations

import re

import pytest

from auth_tokens.services import get_access_token
from ringcentral_sim import SimulatorControl
from ringcentral_sim import config as sim
from tests.support.commands import (
    assert_no_secrets,
    outcomes,
    ringcentral_check,
    run,
    step_text,
    token_requests,
)

pytestmark = pytest.mark.django_db


def test_ringcentral_check_passes_every_step_against_the_simulator(
    rc_settings, simulator: SimulatorControl
) -> None:
    out = ringcentral_check(expect={1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "ok"})
    assert out.count("[ok]") == 5
    assert "password grant" in step_text(out, 1)
    assert "RINGCENTRAL_JWT" in step_text(out, 1)  # the password grant is end-of-life
    assert "custom server" in step_text(out, 2)
    assert sim.DEFAULT_FROM_NUMBER in step_text(out, 5)
    assert token_requests(simulator)["password"] == {"ok": 1}


def test_ringcentral_check_reuses_a_stored_token_unless_asked_for_a_fresh_login(
    rc_settings, simulator: SimulatorControl
) -> None:
    get_access_token()

    out, error = run("ringcentral_check")
    assert error is None, out
    assert "token valid, obtained by password login" in step_text(out, 4)
    assert "--fresh-login" in step_text(out, 3)
    assert token_requests(simulator)["password"] == {"ok": 1}

    out = ringcentral_check("--fresh-login", expect={1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "ok"})
    assert token_requests(simulator)["password"] == {"ok": 2}
    assert_no_secrets(out)


def test_ringcentral_check_fails_client_step_on_a_wrong_secret_and_skips_the_rest(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.RINGCENTRAL_CLIENT_SECRET = "wrong-secret-77"

    out = ringcentral_check(expect={1: "ok", 2: "ok", 3: "FAIL", 4: "skip", 5: "skip"})
    client_step = step_text(out, 3)
    assert "OAU-146" in client_step
    assert re.search(r"fix: .*RINGCENTRAL_CLIENT_SECRET", client_step)
    assert token_requests(simulator)["password"] == {"OAU-146": 1}
    assert "wrong-secret-77" not in out


def test_ringcentral_check_fails_login_step_on_a_wrong_password_after_accepting_the_client(
    rc_settings,
) -> None:
    rc_settings.RINGCENTRAL_PASSWORD = "wrong-pass-77"

    out = ringcentral_check(expect={1: "ok", 2: "ok", 3: "ok", 4: "FAIL", 5: "skip"})
    login_step = step_text(out, 4)
    assert "OAU-140" in login_step
    assert re.search(r"fix: .*RINGCENTRAL_PASSWORD", login_step)
    assert sim.DEFAULT_USERNAME in login_step
    assert "wrong-pass-77" not in out

    # Run again: the block holds the same credentials back, and the check says how to lift it.
    out, _ = run("ringcentral_check")
    assert outcomes(out)[4] == "FAIL"
    assert "Log in again" in step_text(out, 4)


def test_ringcentral_check_fails_server_step_when_nothing_listens(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.RINGCENTRAL_SERVER_URL = "http://127.0.0.1:9"
    rc_settings.RINGCENTRAL_HTTP_TIMEOUT = 2.0

    out = ringcentral_check(expect={1: "ok", 2: "FAIL", 3: "skip", 4: "skip", 5: "skip"})
    assert "check RINGCENTRAL_SERVER_URL" in step_text(out, 2)
    assert "http://127.0.0.1:9" in step_text(out, 2)
    assert token_requests(simulator) == {}


def test_ringcentral_check_fails_settings_step_naming_the_missing_client_id(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.RINGCENTRAL_CLIENT_ID = ""

    out = ringcentral_check(expect={1: "FAIL", 2: "ok", 3: "skip", 4: "skip", 5: "skip"})
    assert "missing RINGCENTRAL_CLIENT_ID" in step_text(out, 1)
    assert "RINGCENTRAL_CLIENT_SECRET" not in step_text(out, 1)
    assert token_requests(simulator) == {}


# -- the password grant is legacy: always flagged, and the JWT is the fix ----------------------


def test_ringcentral_check_warns_about_the_password_grant_even_when_it_works(
    rc_settings, simulator: SimulatorControl
) -> None:
    out = ringcentral_check(expect={1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "ok"})
    warning = re.search(r"^\s+warning: (.*)$", step_text(out, 1), re.MULTILINE)
    assert warning, out
    assert "password grant" in warning.group(1)
    assert "RINGCENTRAL_JWT" in warning.group(1)
    assert re.search(r"ready to send SMS.*RINGCENTRAL_JWT", out.splitlines()[-1])


def test_ringcentral_check_with_a_jwt_has_no_password_grant_warning(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.RINGCENTRAL_JWT = sim.DEFAULT_JWT

    out = ringcentral_check(expect={1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "ok"})
    assert "warning:" not in out
    assert "legacy" not in out
    assert out.splitlines()[-1].endswith("RingCentral is ready to send SMS.")
    assert token_requests(simulator)["jwt"] == {"ok": 1}
    assert sim.DEFAULT_JWT not in out


def test_ringcentral_check_names_the_jwt_as_the_fix_when_the_password_grant_is_refused(
    rc_settings, simulator: SimulatorControl
) -> None:
    simulator.configure(password_grant_allowed=False)

    out = ringcentral_check(expect={1: "ok", 2: "ok", 3: "ok", 4: "FAIL", 5: "skip"})
    login_step = step_text(out, 4)
    assert "OAU-251" in login_step
    assert re.search(r"fix: .*set RINGCENTRAL_JWT", login_step)
    assert "RINGCENTRAL_JWT" in step_text(out, 1)  # the standing warning too
    assert token_requests(simulator)["password"] == {"OAU-251": 1}

    # Following the fix works.
    rc_settings.RINGCENTRAL_JWT = sim.DEFAULT_JWT
    out = ringcentral_check(expect={1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "ok"})


def test_ringcentral_check_unknown_extension_is_oau_136_and_points_at_the_extension(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.RINGCENTRAL_EXTENSION = "999"

    out = ringcentral_check(expect={1: "ok", 2: "ok", 3: "ok", 4: "FAIL", 5: "skip"})
    login_step = step_text(out, 4)
    assert "OAU-136" in login_step
    assert re.search(r"fix: .*no extension 999 .*Check RINGCENTRAL_EXTENSION", login_step)
    assert "administrator to enable" not in login_step


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
