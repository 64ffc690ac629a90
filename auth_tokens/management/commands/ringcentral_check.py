"""Walk the RingCentral configuration step by step and say what to fix; never prints a secret."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from auth_tokens import client, hints, humanize
from auth_tokens.api import ringcentral_request
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

PHONE_NUMBERS_PATH = "/restapi/v1.0/account/~/extension/~/phone-number"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
OK, FAIL, SKIP = "ok", "FAIL", "skip"


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


def _skip(number: int, title: str, why: str) -> Step:
    return Step(number, title, SKIP, why)


class Command(BaseCommand):
    help = (
        "Check the RingCentral setup step by step: settings, server, client credentials, "
        "login, sender number. Exits non-zero when a step fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fresh-login",
            action="store_true",
            help="log in again even if a valid token is stored, to exercise the credentials",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        creds = Credentials.from_settings()
        from_number = settings.SMS_FROM_NUMBER
        steps = [check_settings(creds, from_number)]

        if creds.server_url:
            steps.append(check_server(creds))
        else:
            steps.append(_skip(2, "Server reachable", "needs RINGCENTRAL_SERVER_URL (step 1)"))

        if steps[1].outcome != OK:
            steps.append(_skip(3, "Client credentials accepted", "needs a reachable server"))
            steps.append(_skip(4, "Login works", "needs a reachable server"))
        elif creds.missing_settings():
            steps.append(_skip(3, "Client credentials accepted", "needs the settings of step 1"))
            steps.append(_skip(4, "Login works", "needs the settings of step 1"))
        else:
            steps.extend(check_login(creds, fresh=options["fresh_login"]))

        if steps[3].outcome != OK:
            steps.append(_skip(5, "Sender number", "needs a working login (step 4)"))
        elif not E164.match(from_number):
            steps.append(_skip(5, "Sender number", "needs a valid SMS_FROM_NUMBER (step 1)"))
        else:
            steps.append(check_sender(creds, from_number))

        for step in steps:
            self._print(step)
        failed = [step for step in steps if step.outcome == FAIL]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(steps)} checks failed: fix step {failed[0].number} first."
            )
        if creds.grant == "password":
            self.stdout.write(
                self.style.SUCCESS("RingCentral is ready to send SMS")
                + self.style.WARNING(
                    ", with the legacy password grant: move to RINGCENTRAL_JWT (see step 1)."
                )
            )
            return
        self.stdout.write(self.style.SUCCESS("RingCentral is ready to send SMS."))

    def _print(self, step: Step) -> None:
        style = {OK: self.style.SUCCESS, FAIL: self.style.ERROR, SKIP: self.style.WARNING}
        tag = style[step.outcome](f"[{step.outcome}]")
        # Pad outside the colour codes so the columns line up in a terminal too.
        pad = " " * (6 - len(step.outcome) - 2)
        self.stdout.write(f"{tag}{pad} {step.number}. {step.title}: {step.detail}")
        if step.fix:
            self.stdout.write(f"{'':10}fix: {step.fix}")
        for note in step.notes:
            self.stdout.write(f"{'':10}note: {note}")
        for warning in step.warnings:
            self.stdout.write(f"{'':10}" + self.style.WARNING(f"warning: {warning}"))


def check_settings(creds: Credentials, from_number: str) -> Step:
    title = "Settings present"
    missing = creds.missing_settings()
    if not from_number:
        missing.append("SMS_FROM_NUMBER")
    # Whenever the password grant is in use, even when every step passes: it may be refused
    # (OAU-251) at any time, and the JWT is the replacement.
    warnings = [hints.LEGACY_GRANT_WARNING] if creds.grant == "password" else []
    if missing:
        fix = f"set {', '.join(missing)} in the environment or .env"
        if {"RINGCENTRAL_USERNAME", "RINGCENTRAL_PASSWORD"} & set(missing):
            fix += " (or RINGCENTRAL_JWT instead of the username and password)"
        return Step(1, title, FAIL, f"missing {', '.join(missing)}", fix, warnings=warnings)
    if not E164.match(from_number):
        return Step(
            1,
            title,
            FAIL,
            f"SMS_FROM_NUMBER {from_number!r} is not an E.164 number",
            "write it as + country code and number, no spaces, e.g. +16505550100",
            warnings=warnings,
        )
    detail = f"{creds.grant} grant for {creds.describe_user()}, sending from {from_number}" + (
        " (JWT is RingCentral's recommended login)" if creds.grant == "jwt" else ""
    )
    return Step(1, title, OK, detail, warnings=warnings)


def check_server(creds: Credentials) -> Step:
    title = "Server reachable"
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
        return Step(2, title, FAIL, f"{server} did not answer within {timeout:g} s", fix)
    except requests.ConnectionError:
        return Step(2, title, FAIL, f"could not connect to {server}", fix)
    except requests.RequestException as exc:
        return Step(
            2,
            title,
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
        title,
        OK,
        f"{server} answered (HTTP {response.status_code}); environment: {creds.environment}",
        notes=notes,
    )


def check_login(creds: Credentials, *, fresh: bool) -> list[Step]:
    """Steps 3 and 4 from one token request: RingCentral checks the client before the user,
    so the error code tells which of the two it refused."""
    client_title, login_title = "Client credentials accepted", "Login works"
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
            Step(3, client_title, FAIL, error.message, fix),
            _skip(4, login_title, "needs an answer from the token endpoint"),
        ]
    except CredentialsRejected as error:
        if error.code in hints.CLIENT_CODES or error.code == hints.WRONG_ENVIRONMENT_CODE:
            return [
                Step(3, client_title, FAIL, error.message, error.hint),
                _skip(4, login_title, "needs accepted client credentials (step 3)"),
            ]
        notes = []
        if isinstance(error, CredentialsBlocked):
            notes.append(
                "no request was sent: the block lifts when the credentials change, or with "
                '"Log in again" in the admin'
            )
        return [
            Step(3, client_title, OK, "the rejection was of the user's login, not of the app"),
            Step(4, login_title, FAIL, error.message, error.hint, notes),
        ]
    except RingCentralAuthError as error:
        return [
            _skip(3, client_title, "could not tell: see step 4"),
            Step(4, login_title, FAIL, error.message, error.hint),
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
            Step(3, client_title, OK, f"not re-checked: a valid token is stored; {recheck}"),
            Step(4, login_title, OK, valid),
        ]
    notes = []
    if row.obtained_by == RingCentralToken.Obtained.REFRESH:
        notes.append("the stored refresh token was used, not the login: --fresh-login tests it")
    return [
        Step(3, client_title, OK, f"{server} accepted the app's client id and secret"),
        Step(4, login_title, OK, f"{creds.describe_user()}: {valid}", notes=notes),
    ]


def check_sender(creds: Credentials, from_number: str) -> Step:
    title = "Sender number"
    user = creds.describe_user()
    try:
        response = ringcentral_request("GET", PHONE_NUMBERS_PATH, credentials=creds)
    except RingCentralAuthError as error:
        return Step(5, title, FAIL, error.message, error.hint or "run again later")
    except requests.RequestException as exc:
        return Step(
            5,
            title,
            FAIL,
            f"the phone-number list request failed ({type(exc).__name__})",
            "run again; check the network if it persists",
        )
    if response.status_code != 200:
        code = client.error_code(response)
        fix = (
            "give the app the ReadAccounts permission in the Developer Console"
            if response.status_code in (401, 403)
            else "run again later"
        )
        detail = f"the phone-number list answered HTTP {response.status_code} {code}".strip()
        return Step(5, title, FAIL, detail, fix)
    try:
        records = [r for r in response.json().get("records", []) if isinstance(r, dict)]
    except (ValueError, AttributeError):
        return Step(5, title, FAIL, "the phone-number list was not readable JSON", "run again")

    capable = [
        r.get("phoneNumber", "?")
        for r in records
        if "SmsSender" in r.get("features", []) and r.get("status") == "Normal"
    ]
    if capable:
        fix = f"set SMS_FROM_NUMBER to one of the extension's SMS numbers: {', '.join(capable)}"
    else:
        fix = (
            f"{user} has no SMS-capable number: ask the account administrator to assign one "
            "with the SMS feature, or log in as the user who owns the number"
        )
    mine = next((r for r in records if r.get("phoneNumber") == from_number), None)
    if mine is None:
        return Step(5, title, FAIL, f"{from_number} is not a number of {user}", fix)
    features = mine.get("features", [])
    if "SmsSender" not in features:
        listed = ", ".join(features) or "none"
        detail = f"{from_number} lacks the SmsSender feature (it has: {listed})"
        if "A2PSmsSender" in features:
            # A number is SmsSender or A2P, never both; the app sends through /sms only.
            detail += ": it is a high-volume (A2P) number, which the SMS endpoint refuses"
        return Step(5, title, FAIL, detail, fix)
    if mine.get("status") != "Normal":
        return Step(5, title, FAIL, f"{from_number} has status {mine.get('status')!r}", fix)
    notes = []
    if from_number.startswith("+1"):
        notes.append("US local numbers also need a confirmed 10DLC campaign: not checked here")
    detail = f"{from_number} belongs to {user}, with SmsSender, status Normal"
    return Step(5, title, OK, detail, notes=notes)
