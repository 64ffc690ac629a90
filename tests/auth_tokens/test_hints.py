"""auth_tokens/hints.py: what a person should check when RingCentral refuses a login, naming the
server, the user and the settings to fix (docs/ringcentral.md#token-errors), never a secret."""

from __future__ import annotations

import pytest

from auth_tokens.credentials import PRODUCTION_URL, SANDBOX_URL, Credentials
from auth_tokens.hints import hint_for

SECRETS = {"client_secret": "hunter2-secret", "password": "hunter2-password"}
PASSWORD_LOGIN = Credentials(
    server_url=PRODUCTION_URL,
    client_id="app-id",
    username="+16505550100",
    extension="101",
    **SECRETS,
)
JWT_LOGIN = Credentials(
    server_url=SANDBOX_URL, client_id="app-id", client_secret="hunter2-secret", jwt="hunter2-jwt"
)
PRODUCTION = f"RingCentral production ({PRODUCTION_URL})"
SANDBOX = f"RingCentral sandbox ({SANDBOX_URL})"


@pytest.mark.parametrize(
    ("code", "creds", "says", "never_says"),
    [
        pytest.param(
            "OAU-140",
            PASSWORD_LOGIN,
            [PRODUCTION, "+16505550100 ext 101", "RINGCENTRAL_PASSWORD", "RINGCENTRAL_JWT"],
            [],
            id="password-rejected",
        ),
        pytest.param(
            "OAU-140",
            JWT_LOGIN,
            [SANDBOX, "the JWT credential", "Check RINGCENTRAL_JWT", "(sandbox)"],
            ["RINGCENTRAL_PASSWORD"],  # no password is in use
            id="jwt-rejected",
        ),
        pytest.param(
            "OAU-146",
            PASSWORD_LOGIN,
            ["RINGCENTRAL_CLIENT_ID", "RINGCENTRAL_CLIENT_SECRET"],
            ["RINGCENTRAL_PASSWORD"],
            id="client-refused",
        ),
        pytest.param(
            "OAU-165", JWT_LOGIN, [SANDBOX, "RINGCENTRAL_SERVER_URL"], [], id="wrong-environment"
        ),
        pytest.param(
            "OAU-251",
            PASSWORD_LOGIN,
            ["password grant", "(OAU-251)", "set RINGCENTRAL_JWT"],
            [],
            id="password-grant-not-allowed",
        ),
        pytest.param(
            "OAU-251", JWT_LOGIN, ["enable the JWT auth flow"], [], id="jwt-grant-not-allowed"
        ),
        pytest.param("OAU-168", PASSWORD_LOGIN, ["multi-factor", "RINGCENTRAL_JWT"], [], id="mfa"),
        pytest.param(
            "OAU-136",
            PASSWORD_LOGIN,
            ["no extension 101 for +16505550100", "RINGCENTRAL_EXTENSION"],
            ["administrator"],  # a setting is wrong: nobody else has to act
            id="no-such-extension",
        ),
        pytest.param(
            "OAU-136", JWT_LOGIN, ["no longer exists", "RINGCENTRAL_JWT"], [], id="jwt-user-gone"
        ),
        pytest.param(
            "OAU-141",
            PASSWORD_LOGIN,
            ["(OAU-141", "administrator to enable the extension"],
            ["RINGCENTRAL_EXTENSION"],  # the setting is right: the extension is disabled
            id="extension-disabled",
        ),
        pytest.param(
            "OAU-142", PASSWORD_LOGIN, ["not active (OAU-142)", "administrator"], [], id="account"
        ),
        pytest.param(
            "OAU-999", PASSWORD_LOGIN, ["with OAU-999", "RINGCENTRAL_*"], [], id="undescribed"
        ),
        pytest.param("", PASSWORD_LOGIN, ["an unexpected answer"], [], id="no-code"),
    ],
)
def test_each_refusal_names_what_to_check(code, creds, says, never_says):
    hint = hint_for(code, creds)
    assert [words for words in says if words not in hint] == []
    assert [words for words in never_says if words in hint] == []


@pytest.mark.parametrize(
    "code", ["OAU-140", "OAU-123", "OAU-165", "OAU-251", "OAU-168", "OAU-136", "OAU-141", "X"]
)
@pytest.mark.parametrize("creds", [PASSWORD_LOGIN, JWT_LOGIN], ids=["password", "jwt"])
def test_no_hint_repeats_a_secret(code, creds):
    hint = hint_for(code, creds)
    assert [
        secret for secret in ("hunter2-secret", "hunter2-password", "hunter2-jwt") if secret in hint
    ] == []
