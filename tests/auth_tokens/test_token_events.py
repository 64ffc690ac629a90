"""TokenEvent (auth_tokens/models.py), written by auth_tokens/services.py in the transaction of
each token row change: what happened, with RingCentral's code, never a secret."""

from __future__ import annotations

import pytest
from django.db import connection

from auth_tokens.crypto import decrypt
from auth_tokens.errors import AuthThrottled, CredentialsBlocked, CredentialsRejected
from auth_tokens.models import RingCentralToken, TokenEvent
from auth_tokens.services import (
    clear_block,
    get_access_token,
    refresh_now,
    revoke_tokens,
)

pytestmark = pytest.mark.django_db
Kind = TokenEvent.Kind


def _kinds() -> list[tuple[str, str]]:
    return list(TokenEvent.objects.order_by("at", "id").values_list("kind", "error_code"))


def test_first_login_then_a_refresh_are_recorded(rc_settings, simulator):
    get_access_token()
    refresh_now()

    assert _kinds() == [(Kind.LOGGED_IN, ""), (Kind.REFRESHED, "")]
    row = RingCentralToken.objects.get()
    assert set(TokenEvent.objects.values_list("token_id", flat=True)) == {row.pk}


def test_a_refused_refresh_then_the_login_that_replaced_it(rc_settings, simulator):
    get_access_token()
    simulator.revoke_all()  # RingCentral forgets the session: the refresh token is refused

    refresh_now()

    assert [kind for kind, _ in _kinds()] == [Kind.LOGGED_IN, Kind.REFRESH_REFUSED, Kind.LOGGED_IN]
    assert _kinds()[1][1].startswith("OAU-")


def test_rejected_credentials_record_a_block_and_a_clear_records_its_lifting(
    rc_settings, simulator
):
    rc_settings.RINGCENTRAL_PASSWORD = "not-the-password"
    with pytest.raises(CredentialsRejected):
        get_access_token()
    with pytest.raises(CredentialsBlocked):
        get_access_token()  # refused before any request: nothing happened, nothing recorded

    assert clear_block() is True
    assert clear_block() is True  # nothing was blocked any more: no second event

    assert _kinds() == [(Kind.BLOCKED, "OAU-140"), (Kind.BLOCK_CLEARED, "")]


def test_a_429_from_the_token_endpoint_is_recorded_as_throttled(rc_settings, simulator):
    simulator.inject_fault("error", group="Auth", status=429)
    with pytest.raises(AuthThrottled):
        get_access_token()

    [(kind, code)] = _kinds()
    assert kind == Kind.THROTTLED
    assert code


def test_revoking_is_recorded(rc_settings, simulator):
    get_access_token()
    revoke_tokens()

    assert [kind for kind, _ in _kinds()] == [Kind.LOGGED_IN, Kind.REVOKED]


def test_an_event_never_holds_a_token_or_a_password(rc_settings, simulator):
    get_access_token()
    refresh_now()
    row = RingCentralToken.objects.get()
    secrets = [
        decrypt(row.access_token_encrypted),
        decrypt(row.refresh_token_encrypted),
        rc_settings.RINGCENTRAL_PASSWORD,
        rc_settings.RINGCENTRAL_CLIENT_SECRET,
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {TokenEvent._meta.db_table}")  # noqa: S608
        stored = repr(cursor.fetchall())

    assert all(secret and secret not in stored for secret in secrets)
    assert [str(event).split(" ", 2)[2] for event in TokenEvent.objects.order_by("at", "id")] == [
        "logged in",
        "refreshed",
    ]
