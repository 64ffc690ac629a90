"""auth_tokens/management/commands/token_refresh.py: a refresh or a fresh login on demand, the
new token masked, failures in one line naming server and user."""

from __future__ import annotations

import pytest

from auth_tokens.models import RingCentralToken
from auth_tokens.services import get_access_token
from ringcentral_sim import SimulatorControl
from ringcentral_sim import config as sim
from tests.support.commands import assert_no_secrets, run, token_requests

pytestmark = pytest.mark.django_db


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
