"""auth_tokens/services.py: get_access_token() and friends against the simulator: refresh, login
fallback, 401, 429, and bounded waits for the row lock."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.utils import timezone

from auth_tokens import services
from auth_tokens.api import ringcentral_request
from auth_tokens.credentials import Credentials
from auth_tokens.crypto import decrypt
from auth_tokens.errors import (
    AuthThrottled,
    AuthUnavailable,
    CredentialsBlocked,
    CredentialsRejected,
    TokenConfigurationError,
    TokenLockTimeout,
)
from auth_tokens.models import RingCentralToken
from auth_tokens.services import (
    clear_block,
    get_access_token,
    invalidate_access_token,
    keep_alive,
    refresh_now,
    revoke_tokens,
)
from auth_tokens.timing import lock_timeout_seconds
from ringcentral_sim.config import default_client
from tests.support import pg_activity
from tests.support.processes import process_env, shared_database_url, wait_until

pytestmark = pytest.mark.django_db
PHONE_NUMBERS = "/restapi/v1.0/account/~/extension/~/phone-number"


def _row() -> RingCentralToken:
    return RingCentralToken.objects.get()


def _expire_access_locally() -> None:
    RingCentralToken.objects.update(access_expires_at=timezone.now() - timedelta(seconds=1))


def _token_requests(simulator) -> dict:
    return simulator.counters()["token_requests"]


def test_first_use_logs_in_once_and_stores_the_pair_encrypted(rc_settings, simulator):
    token = get_access_token()
    row = _row()
    assert token.value not in row.access_token_encrypted
    assert decrypt(row.access_token_encrypted) == token.value
    assert row.refresh_token_encrypted
    assert row.refresh_expires_at > timezone.now()
    assert row.obtained_by == "password"
    assert row.login_count == 1
    assert _token_requests(simulator) == {"password": {"ok": 1}}


def test_hot_path_is_one_query_and_no_token_request(
    rc_settings, simulator, django_assert_num_queries
):
    first = get_access_token()
    with django_assert_num_queries(1):
        again = get_access_token()
    assert again == first
    assert _token_requests(simulator) == {"password": {"ok": 1}}


def test_hot_path_follows_a_changed_expiry_of_the_same_version(rc_settings, simulator):
    first = get_access_token()
    later = first.expires_at + timedelta(minutes=5)
    RingCentralToken.objects.update(access_expires_at=later)  # no version bump
    again = get_access_token()
    assert (again.value, again.version, again.expires_at) == (first.value, first.version, later)
    RingCentralToken.objects.update(access_expires_at=timezone.now())
    assert get_access_token().version > first.version  # expired in the row: renewed
    assert _token_requests(simulator) == {"password": {"ok": 1}, "refresh_token": {"ok": 1}}


def test_changed_settings_take_effect_without_a_restart(rc_settings, simulator):
    get_access_token()
    rc_settings.RINGCENTRAL_JWT = "sim-jwt-credential"  # another identity: another token row
    get_access_token()
    assert sorted(RingCentralToken.objects.values_list("login_grant", flat=True)) == [
        "jwt",
        "password",
    ]


def test_expiry_comes_from_expires_in_and_the_skew_scales_with_it(rc_settings, simulator):
    simulator.configure(access_token_ttl=5)
    token = get_access_token()
    assert timedelta(seconds=4) < token.expires_at - timezone.now() <= timedelta(seconds=5)
    # A fixed 60 s skew would call a 5 s token expired at once and refresh on every call.
    assert get_access_token() == token
    assert _token_requests(simulator) == {"password": {"ok": 1}}


def test_expired_access_token_is_refreshed_not_logged_in_again(rc_settings, simulator):
    first = get_access_token()
    _expire_access_locally()
    second = get_access_token()
    assert second.value != first.value
    assert second.version > first.version
    assert _token_requests(simulator) == {"password": {"ok": 1}, "refresh_token": {"ok": 1}}
    assert _row().refresh_count == 1


def test_long_idle_logs_in_without_wasting_a_refresh_and_the_send_works(rc_settings, simulator):
    simulator.configure(refresh_token_ttl=600)
    get_access_token()
    simulator.advance_clock(3600)  # a long idle: both tokens are dead on the platform
    RingCentralToken.objects.update(
        access_expires_at=timezone.now() - timedelta(minutes=50),
        refresh_expires_at=timezone.now() - timedelta(minutes=50),
    )
    get_access_token()
    assert _token_requests(simulator) == {"password": {"ok": 2}}
    body = {
        "from": {"phoneNumber": "+16505550100"},
        "to": [{"phoneNumber": "+16505550199"}],
        "text": "back after a long idle",
    }
    sent = ringcentral_request("POST", "/restapi/v1.0/account/~/extension/~/sms", json=body)
    assert sent.status_code == 200
    assert simulator.counters()["sms_accepted"] == 1


def test_refresh_refused_with_oau_213_falls_back_to_one_login(rc_settings, simulator):
    get_access_token()
    simulator.revoke_all()
    _expire_access_locally()
    get_access_token()
    assert _token_requests(simulator) == {
        "password": {"ok": 2},
        "refresh_token": {"OAU-213": 1},
    }
    row = _row()
    assert (row.login_count, row.refresh_count) == (2, 0)
    assert ringcentral_request("GET", PHONE_NUMBERS).status_code == 200


def test_refresh_token_expired_on_the_server_first_gets_oau_210_then_one_login(
    rc_settings, simulator
):
    simulator.configure(refresh_token_ttl=600)
    get_access_token()
    simulator.advance_clock(601)  # the server's clock says expired; ours does not yet
    _expire_access_locally()
    get_access_token()
    assert _token_requests(simulator)["refresh_token"] == {"OAU-210": 1}
    assert _token_requests(simulator)["password"] == {"ok": 2}


def test_app_without_refresh_tokens_logs_in_when_the_access_token_expires(rc_settings, simulator):
    simulator.configure(clients=[default_client() | {"issue_refresh_tokens": False}])
    get_access_token()
    assert _row().refresh_token_encrypted == ""
    _expire_access_locally()
    get_access_token()
    assert _token_requests(simulator) == {"password": {"ok": 2}}


def test_jwt_is_used_when_configured(rc_settings, simulator):
    rc_settings.RINGCENTRAL_JWT = "sim-jwt-credential"
    rc_settings.RINGCENTRAL_PASSWORD = ""
    get_access_token()
    assert _token_requests(simulator) == {"jwt": {"ok": 1}}
    assert _row().login_grant == "jwt"


def test_401_on_an_api_call_reauthenticates_once_and_retries(rc_settings, simulator):
    get_access_token()
    simulator.revoke_all()  # the platform ended the session: the stored token now gets 401
    answer = ringcentral_request("GET", PHONE_NUMBERS)
    assert answer.status_code == 200
    assert simulator.counters()["api_unauthorized"] == 1
    assert _token_requests(simulator) == {"password": {"ok": 2}, "refresh_token": {"OAU-213": 1}}


def test_invalidate_discards_only_the_version_that_failed(rc_settings, simulator):
    stale = get_access_token()
    assert invalidate_access_token(stale) is True
    fresh = get_access_token()
    assert invalidate_access_token(stale) is False  # a late 401 for the old token changes nothing
    assert get_access_token() == fresh


def test_auth_429_pauses_every_caller_until_retry_after(rc_settings, simulator):
    simulator.configure(rate_limits={"Auth": 1, "Medium": 40, "Light": 50, "Heavy": 10})
    get_access_token()
    _expire_access_locally()
    with pytest.raises(AuthThrottled) as throttled:
        get_access_token()
    assert 59 <= throttled.value.retry_after <= 60
    assert _row().throttled_until > timezone.now() + timedelta(seconds=58)
    before = simulator.counters()["requests"]["Auth"]
    for _ in range(5):
        with pytest.raises(AuthThrottled):
            get_access_token()
    with pytest.raises(AuthThrottled):
        refresh_now()
    assert simulator.counters()["requests"]["Auth"] == before  # nobody called again
    assert simulator.counters()["rate_limited"] == {"Auth": 1}
    # Once Retry-After has passed (on both clocks), the next caller renews.
    simulator.advance_clock(61)
    RingCentralToken.objects.update(throttled_until=timezone.now() - timedelta(seconds=1))
    assert get_access_token().value


def test_429_without_retry_after_waits_30_seconds(rc_settings, simulator):
    # retry_after=0: a 429 without the header (the simulator sends one by default, as the
    # real platform does).
    simulator.inject_fault("error", group="Auth", status=429, retry_after=0)
    with pytest.raises(AuthThrottled) as throttled:
        get_access_token()
    assert throttled.value.retry_after == 30


def test_503_from_the_token_endpoint_is_transient_and_recorded(rc_settings, simulator):
    simulator.inject_fault("error", group="Auth", status=503)
    with pytest.raises(AuthUnavailable):
        get_access_token()
    row = _row()
    assert row.last_error_code == "CMN-201"
    assert not row.blocked
    assert get_access_token().value  # the next call simply tries again


def test_wrong_password_blocks_with_a_hint_naming_server_and_user(rc_settings, simulator):
    rc_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    with pytest.raises(CredentialsRejected) as rejected:
        get_access_token()
    text = str(rejected.value)
    assert simulator.url in text
    assert "+16505550100 ext 101" in text
    assert "sandbox and production passwords differ" in text
    assert "developer-portal login" in text
    assert rejected.value.code == "OAU-140"
    with pytest.raises(CredentialsBlocked) as blocked:
        get_access_token()
    assert simulator.url in str(blocked.value)
    with pytest.raises(CredentialsBlocked):
        refresh_now(login=True)
    assert _token_requests(simulator) == {"password": {"OAU-140": 1}}  # no further logins


def test_a_block_lifts_when_the_configuration_changes(rc_settings, simulator):
    rc_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    with pytest.raises(CredentialsRejected):
        get_access_token()
    rc_settings.RINGCENTRAL_PASSWORD = "sim-password"
    assert get_access_token().value
    assert not _row().blocked


def test_an_admin_can_clear_the_block_for_one_more_try(rc_settings, simulator):
    rc_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    with pytest.raises(CredentialsRejected):
        get_access_token()
    assert clear_block() is True
    with pytest.raises(CredentialsRejected):
        get_access_token()
    assert _token_requests(simulator) == {"password": {"OAU-140": 2}}


def test_grant_not_allowed_names_the_console_setting(rc_settings, simulator):
    simulator.configure(clients=[default_client() | {"grants": ["jwt", "refresh_token"]}])
    with pytest.raises(CredentialsRejected) as rejected:
        get_access_token()
    assert rejected.value.code == "OAU-251"
    assert "password flow" in rejected.value.hint
    assert "JWT" in rejected.value.hint


def test_missing_settings_are_named(rc_settings):
    rc_settings.RINGCENTRAL_CLIENT_ID = ""
    with pytest.raises(TokenConfigurationError, match="RINGCENTRAL_CLIENT_ID"):
        get_access_token()


def test_tokens_unreadable_after_a_key_change_lead_to_a_fresh_login(rc_settings, simulator):
    get_access_token()
    services._plaintext_cache.clear()  # a new process, which only has the new key
    rc_settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
    assert get_access_token().value
    # Neither stored token can be read, so no refresh is attempted: one fresh login.
    assert _token_requests(simulator) == {"password": {"ok": 2}}


def test_forced_login_ends_the_previous_session(rc_settings, simulator):
    get_access_token()
    refresh_now(login=True)
    assert simulator.counters()["live_sessions"] == 1
    assert _row().login_count == 2


def test_revoke_forgets_the_pair_and_ends_the_session(rc_settings, simulator):
    get_access_token()
    assert revoke_tokens() is True
    assert simulator.counters()["live_sessions"] == 0
    assert _row().access_token_encrypted == ""
    get_access_token()
    assert _row().login_count == 2


def test_keep_alive_renews_in_the_second_half_of_the_lifetime_only(rc_settings, simulator):
    get_access_token()
    assert keep_alive().startswith("fresh")
    RingCentralToken.objects.update(access_expires_at=timezone.now() + timedelta(minutes=20))
    assert keep_alive().startswith("renewed")
    assert _token_requests(simulator) == {"password": {"ok": 1}, "refresh_token": {"ok": 1}}


def test_keep_alive_renews_a_refresh_token_close_to_expiry(rc_settings, simulator):
    get_access_token()
    RingCentralToken.objects.update(refresh_expires_at=timezone.now() + timedelta(hours=2))
    assert keep_alive().startswith("renewed")
    assert _row().refresh_expires_at > timezone.now() + timedelta(days=6)


def test_keep_alive_does_not_call_while_throttled(rc_settings, simulator):
    get_access_token()
    RingCentralToken.objects.update(
        access_expires_at=None, throttled_until=timezone.now() + timedelta(seconds=30)
    )
    assert keep_alive().startswith("not renewed")
    assert _token_requests(simulator) == {"password": {"ok": 1}}


def test_keep_alive_without_configuration_does_nothing(rc_settings, simulator):
    rc_settings.RINGCENTRAL_CLIENT_ID = ""
    assert keep_alive().startswith("skipped")


def test_no_token_reaches_logs_reprs_or_exception_text(rc_settings, simulator, caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    first = get_access_token()
    row = _row()
    seen += [first.value, decrypt(row.refresh_token_encrypted)]
    _expire_access_locally()
    second = get_access_token()
    seen += [second.value, decrypt(_row().refresh_token_encrypted)]
    simulator.revoke_all()
    ringcentral_request("GET", PHONE_NUMBERS)
    seen.append(decrypt(_row().refresh_token_encrypted))
    rc_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    refresh_now(login=False)
    with pytest.raises(CredentialsRejected) as rejected:
        refresh_now(login=True)
    texts = [
        caplog.text,
        str(rejected.value),
        repr(rejected.value),
        repr(_row()),
        str(_row()),
        repr(first),
        str(first),
        repr(Credentials.from_settings()),
    ]
    for text in texts:
        for secret in [*seen, "sim-password", "not-the-password", "sim-client-secret"]:
            assert secret not in text


# -- the row lock: bounded waits (another connection holds the lock) -----------------------------


@pytest.mark.django_db(transaction=True)
def test_a_process_holding_the_lock_too_long_makes_others_give_up_cleanly(rc_settings, simulator):
    rc_settings.RINGCENTRAL_HTTP_TIMEOUT = 0.1  # the lock wait is 4 HTTP timeouts + 5 s
    get_access_token()
    RingCentralToken.objects.update(access_expires_at=timezone.now() - timedelta(seconds=1))
    before = simulator.counters()["token_requests"]
    # Another process stuck in the middle of a renewal, holding the row lock.
    with psycopg.connect(shared_database_url()) as holder:
        holder.execute("SELECT id FROM auth_tokens_ringcentraltoken FOR UPDATE")
        with pytest.raises(TokenLockTimeout):
            get_access_token()
    assert simulator.counters()["token_requests"] == before  # it did not race the holder


# A process that takes the lock, then asks RingCentral for a token.
_RENEW_IN_ANOTHER_PROCESS = (
    "import django; django.setup(); "
    "from auth_tokens.services import get_access_token; get_access_token()"
)


@pytest.mark.django_db(transaction=True)
def test_a_renewal_frozen_while_holding_the_lock_loses_it_within_the_lock_timeout(
    rc_settings, simulator
):
    # Frozen (SIGSTOP: a paused VM or container) in the middle of its token call, the holder's
    # connection stays open and answers TCP keepalives: only PostgreSQL's idle-in-transaction
    # timeout, which the renewal sets for itself, ends its transaction.
    rc_settings.RINGCENTRAL_HTTP_TIMEOUT = 1.0  # the bound: 4 HTTP timeouts + 5 s = 9 s
    get_access_token()
    RingCentralToken.objects.update(access_expires_at=timezone.now() - timedelta(seconds=1))
    simulator.inject_fault("delay", group="Auth", seconds=5)  # the holder's call hangs
    holder = subprocess.Popen(
        [sys.executable, "-c", _RENEW_IN_ANOTHER_PROCESS], env=process_env(rc_settings)
    )
    try:
        with psycopg.connect(shared_database_url(), autocommit=True) as watch:
            holders = wait_until(
                lambda: pg_activity.token_lock_holders(watch), 20, "the other process to lock"
            )
            os.kill(holder.pid, signal.SIGSTOP)
            started = time.monotonic()
            token = get_access_token()  # waits for the lock, then renews
            waited = time.monotonic() - started
            holder_alive = pg_activity.session_alive(watch, holders[0].pid)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert token.value
    assert waited <= lock_timeout_seconds() + 1, waited
    assert not holder_alive  # PostgreSQL ended the frozen holder's session
    assert ringcentral_request("GET", PHONE_NUMBERS).status_code == 200  # the stored pair works


@pytest.mark.django_db(transaction=True)
def test_a_throttled_caller_fails_fast_without_waiting_for_the_lock(rc_settings, simulator):
    rc_settings.RINGCENTRAL_HTTP_TIMEOUT = 0.1
    get_access_token()
    RingCentralToken.objects.update(
        access_expires_at=timezone.now() - timedelta(seconds=1),
        throttled_until=timezone.now() + timedelta(seconds=30),
    )
    with psycopg.connect(shared_database_url()) as holder:
        holder.execute("SELECT id FROM auth_tokens_ringcentraltoken FOR UPDATE")
        started = time.monotonic()
        with pytest.raises(AuthThrottled):
            get_access_token()
    # Well under the lock timeout (4 HTTP timeouts + 5 s): the throttle was read, not waited on.
    assert time.monotonic() - started < 2
