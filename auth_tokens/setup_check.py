"""The token steps of `ringcentral_check`: settings, server, client credentials, login."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import requests
from django.conf import settings

from auth_tokens import hints, humanize
from auth_tokens.credentials import PRODUCTION_URL, SANDBOX_URL, Credentials
from auth_tokens.errors import (
    AuthThrottled,
    AuthUnavailable,
    CredentialsBlocked,
    CredentialsRejected,
    RingCentralAuthError,
)
from auth_tokens.models import RingCentralToken
from auth_tokens.services import get_access_token, refresh_now

OK, FAIL, SKIP = "ok", "FAIL", "skip"
SETTINGS_TITLE = "Settings present"
SERVER_TITLE = "Server reachable"
CLIENT_TITLE = "Client credentials accepted"
LOGIN_TITLE = "Login works"


@dataclass
class Step:
    number: int
    title: str
    outcome: str
    detail: str
    fix: str = ""
    notes: list[str] = field(default_factory=list)
    # Printed whatever the outcome: something that works today but should change.
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SettingProblem:
    """A setting of the caller's own that is present but unusable: it fails step 1."""

    detail: str
    fix: str


def skip(number: int, title: str, why: str) -> Step:
    return Step(number, title, SKIP, why)


def check_token_setup(
    creds: Credentials,
    *,
    fresh_login: bool,
    other_settings: Mapping[str, str] = MappingProxyType({}),
    other_problem: SettingProblem | None = None,
    purpose: str = "",
) -> list[Step]:
    """Steps 1 to 4, in order; a step that cannot run is skipped, saying which one it needs.

    The caller may need settings of its own, checked in step 1 beside the RINGCENTRAL_* ones:
    `other_settings` (name: value) must be set, `other_problem` fails the step when one of them
    is set but unusable, and `purpose` ends the step's summary (e.g. "sending from +1...").
    """
    steps = [check_settings(creds, other_settings, other_problem, purpose)]
    if creds.server_url:
        steps.append(check_server(creds))
    else:
        steps.append(skip(2, SERVER_TITLE, "needs RINGCENTRAL_SERVER_URL (step 1)"))

    if steps[1].outcome != OK:
        steps.append(skip(3, CLIENT_TITLE, "needs a reachable server"))
        steps.append(skip(4, LOGIN_TITLE, "needs a reachable server"))
    elif creds.missing_settings():
        steps.append(skip(3, CLIENT_TITLE, "needs the settings of step 1"))
        steps.append(skip(4, LOGIN_TITLE, "needs the settings of step 1"))
    else:
        steps.extend(check_login(creds, fresh=fresh_login))
    return steps


def check_settings(
    creds: Credentials,
    other_settings: Mapping[str, str],
    other_problem: SettingProblem | None,
    purpose: str,
) -> Step:
    missing = creds.missing_settings() + [
        name for name, value in other_settings.items() if not value
    ]
    # Whenever the password grant is in use, even when every step passes: it may be refused
    # (OAU-251) at any time, and the JWT is the replacement.
    warnings = [hints.LEGACY_GRANT_WARNING] if creds.grant == "password" else []
    if missing:
        fix = f"set {', '.join(missing)} in the environment or .env"
        if {"RINGCENTRAL_USERNAME", "RINGCENTRAL_PASSWORD"} & set(missing):
            fix += " (or RINGCENTRAL_JWT instead of the username and password)"
        return Step(
            1, SETTINGS_TITLE, FAIL, f"missing {', '.join(missing)}", fix, warnings=warnings
        )
    if other_problem is not None:
        return Step(
            1, SETTINGS_TITLE, FAIL, other_problem.detail, other_problem.fix, warnings=warnings
        )
    detail = f"{creds.grant} grant for {creds.describe_user()}"
    if purpose:
        detail += f", {purpose}"
    if creds.grant == "jwt":
        detail += " (JWT is RingCentral's recommended login)"
    return Step(1, SETTINGS_TITLE, OK, detail, warnings=warnings)


def check_server(creds: Credentials) -> Step:
    server = creds.describe_server()
    timeout = settings.RINGCENTRAL_HTTP_TIMEOUT
    fix = (
        f"check RINGCENTRAL_SERVER_URL (production {PRODUCTION_URL}, sandbox {SANDBOX_URL}) "
        "and the network (firewall, proxy, DNS)"
    )
    try:
        # Any HTTP answer proves the server is there; the API root itself may say 404.
        response = requests.get(
            f"{creds.server_url}/restapi/v1.0", timeout=(timeout, timeout), allow_redirects=False
        )
    except requests.Timeout:
        return Step(2, SERVER_TITLE, FAIL, f"{server} did not answer within {timeout:g} s", fix)
    except requests.ConnectionError:
        return Step(2, SERVER_TITLE, FAIL, f"could not connect to {server}", fix)
    except requests.RequestException as exc:
        return Step(
            2,
            SERVER_TITLE,
            FAIL,
            f"RINGCENTRAL_SERVER_URL is not a usable URL ({type(exc).__name__})",
            fix,
        )
    notes = []
    if creds.environment == "sandbox":
        notes.append(
            "the sandbox is being phased out in favour of developer accounts in production"
        )
    elif creds.environment == "custom server":
        notes.append("neither production nor sandbox: fine for the local simulator")
    return Step(
        2,
        SERVER_TITLE,
        OK,
        f"{server} answered (HTTP {response.status_code}); environment: {creds.environment}",
        notes=notes,
    )


def check_login(creds: Credentials, *, fresh: bool) -> list[Step]:
    """Steps 3 and 4 from one token request: RingCentral checks the client before the user,
    so the error code tells which of the two it refused."""
    server = creds.describe_server()
    before = RingCentralToken.objects.filter(credential_key=creds.key).only("version").first()
    try:
        if fresh:
            token = refresh_now(credentials=creds, login=True)
        else:
            token = get_access_token(credentials=creds)
    except (AuthThrottled, AuthUnavailable) as error:
        fix = error.hint or "wait and run again: requests during a rate-limit penalty restart it"
        return [
            Step(3, CLIENT_TITLE, FAIL, error.message, fix),
            skip(4, LOGIN_TITLE, "needs an answer from the token endpoint"),
        ]
    except CredentialsRejected as error:
        if error.code in hints.CLIENT_CODES or error.code == hints.WRONG_ENVIRONMENT_CODE:
            return [
                Step(3, CLIENT_TITLE, FAIL, error.message, error.hint),
                skip(4, LOGIN_TITLE, "needs accepted client credentials (step 3)"),
            ]
        notes = []
        if isinstance(error, CredentialsBlocked):
            notes.append(
                "no request was sent: the block lifts when the credentials change, or with "
                '"Log in again" in the admin'
            )
        return [
            Step(3, CLIENT_TITLE, OK, "the rejection was of the user's login, not of the app"),
            Step(4, LOGIN_TITLE, FAIL, error.message, error.hint, notes),
        ]
    except RingCentralAuthError as error:
        return [
            skip(3, CLIENT_TITLE, "could not tell: see step 4"),
            Step(4, LOGIN_TITLE, FAIL, error.message, error.hint),
        ]

    row = RingCentralToken.objects.get(credential_key=creds.key)
    how = row.get_obtained_by_display()
    at = (
        row.last_refresh_at
        if row.obtained_by == RingCentralToken.Obtained.REFRESH
        else row.last_login_at
    )
    valid = (
        f"token valid, obtained by {how} at {humanize.stamp(at)}, "
        f"expires {humanize.expiry(token.expires_at)}"
    )
    if before is not None and before.version == token.version:
        recheck = "use --fresh-login to send the credentials to RingCentral now"
        return [
            Step(3, CLIENT_TITLE, OK, f"not re-checked: a valid token is stored; {recheck}"),
            Step(4, LOGIN_TITLE, OK, valid),
        ]
    notes = []
    if row.obtained_by == RingCentralToken.Obtained.REFRESH:
        notes.append("the stored refresh token was used, not the login: --fresh-login tests it")
    return [
        Step(3, CLIENT_TITLE, OK, f"{server} accepted the app's client id and secret"),
        Step(4, LOGIN_TITLE, OK, f"{creds.describe_user()}: {valid}", notes=notes),
    ]
