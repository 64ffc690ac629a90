"""auth_tokens/status.py: a token row's state in words (one of a few states, and whether a person
must act), computed from the row's facts; never stored."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from auth_tokens import status
from auth_tokens.credentials import Credentials
from auth_tokens.crypto import encrypt, fingerprint
from auth_tokens.models import RingCentralToken

HOUR = timedelta(hours=1)


def _row(**facts) -> RingCentralToken:
    """A row as it is after a login (not saved: describe() reads only its fields)."""
    now = timezone.now()
    fields = {
        "server_url": "https://platform.ringcentral.com",
        "username": "+16505550100",
        "login_grant": "password",
        "access_token_encrypted": encrypt("SIMAT-access"),
        "access_expires_at": now + HOUR,
        "access_token_ttl": 3600,
        "refresh_token_encrypted": encrypt("SIMRT-refresh"),
        "refresh_expires_at": now + 24 * 7 * HOUR,
        "last_login_at": now - HOUR / 2,
        "obtained_by": "password",
    }
    return RingCentralToken(**{**fields, **facts})


def test_a_row_after_a_login_is_healthy_and_shows_fingerprints_only():
    report = status.describe(_row())
    assert (report.state, report.summary, report.needs_attention) == ("healthy", "healthy", False)
    assert report.access_fingerprint == fingerprint("SIMAT-access")
    assert "SIMAT-access" not in repr(report)


# The facts, as times from now (in hours) when the test runs.
@pytest.mark.parametrize(
    ("facts", "state", "needs_attention"),
    [
        # Texts still go out: the next use renews by itself.
        ({"access_expires_at": -1}, status.ACCESS_EXPIRED, False),
        ({"access_expires_at": -1, "refresh_expires_at": 0}, status.REFRESH_EXPIRED, False),
        # Texts wait until time passes (Retry-After) or a person acts.
        ({"access_expires_at": -1, "throttled_until": 1}, status.THROTTLED, True),
        ({"blocked": True}, status.BLOCKED, True),
        # A pause on renewals does not matter while the access token is good.
        ({"throttled_until": 1}, status.HEALTHY, False),
    ],
    ids=["access-expired", "refresh-expired", "throttled", "blocked", "throttled-but-valid"],
)
def test_the_state_follows_the_rows_facts(facts, state, needs_attention):
    now = timezone.now()
    at = {k: now + v * HOUR for k, v in facts.items() if not isinstance(v, bool)}
    report = status.describe(_row(**{**facts, **at}))
    assert (report.state, report.needs_attention) == (state, needs_attention)


def test_a_block_for_credentials_since_changed_no_longer_counts():
    assert status.describe(_row(blocked=True), blocked_now=False).state == status.HEALTHY


def test_the_last_error_is_history_once_a_renewal_followed_it():
    failed_at = timezone.now() - HOUR
    error = {
        "last_error_code": "OAU-140",
        "last_error_message": "rejected",
        "last_error_at": failed_at,
    }

    fixed = status.describe(_row(last_login_at=failed_at + HOUR / 2, **error))
    still_blocked = status.describe(_row(last_login_at=failed_at - HOUR, blocked=True, **error))

    assert fixed.last_error["resolved"] is True
    assert still_blocked.last_error["resolved"] is False
    assert status.describe(_row()).last_error is None


def test_the_json_form_carries_every_time_as_iso_8601():
    failed_at = timezone.now() - HOUR
    row = _row(last_error_code="CMN-201", last_error_at=failed_at)
    data = status.describe(row).as_json()
    assert data["last_error"]["at"] == failed_at.isoformat()
    assert data["access_expires_at"] == row.access_expires_at.isoformat()
    assert data["last_refresh_at"] is None
    assert json.loads(json.dumps(data)) == data  # nothing a JSON encoder would refuse


def test_missing_settings_are_named_without_looking_for_a_row():
    creds = Credentials(
        server_url="https://platform.ringcentral.com", client_id="", client_secret=""
    )
    report = status.token_status(credentials=creds)  # no database: this test has none
    assert report.state == status.NOT_CONFIGURED
    assert report.needs_attention
    assert "RINGCENTRAL_CLIENT_ID" in report.summary
    assert "RINGCENTRAL_PASSWORD" in report.summary


@pytest.mark.django_db
def test_configured_credentials_without_a_row_are_not_logged_in_yet(rc_settings):
    report = status.token_status()
    assert (report.state, report.needs_attention) == (status.NOT_LOGGED_IN, False)
    assert report.username == rc_settings.RINGCENTRAL_USERNAME
