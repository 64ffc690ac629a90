"""The sender-number part of `ringcentral_check`: SMS_FROM_NUMBER is an SMS number of the user."""

from __future__ import annotations

import requests

from auth_tokens.api import (
    FAIL,
    OK,
    Credentials,
    RingCentralAuthError,
    SettingProblem,
    Step,
    error_code,
    ringcentral_request,
    skip,
)
from smsapp.phones import is_e164, same_number

PHONE_NUMBERS_PATH = "/restapi/v1.0/account/~/extension/~/phone-number"
# After the four token steps of auth_tokens' check_token_setup().
STEP = 5
TITLE = "Sender number"


def settings_problem(from_number: str) -> SettingProblem | None:
    """Step 1's question about the sender: set, but not written in E.164."""
    if from_number and not is_e164(from_number):
        return SettingProblem(
            f"SMS_FROM_NUMBER {from_number!r} is not an E.164 number",
            "write it as + country code and number, no spaces, e.g. +16505550100",
        )
    return None


def sender_step(creds: Credentials, from_number: str, *, login: Step) -> Step:
    """Step 5, or why it cannot run: it reads the number list with the token of step 4."""
    if login.outcome != OK:
        return skip(STEP, TITLE, "needs a working login (step 4)")
    if not is_e164(from_number):
        return skip(STEP, TITLE, "needs a valid SMS_FROM_NUMBER (step 1)")
    return check_sender(creds, from_number)


def check_sender(creds: Credentials, from_number: str) -> Step:
    user = creds.describe_user()
    try:
        response = ringcentral_request("GET", PHONE_NUMBERS_PATH, credentials=creds)
    except RingCentralAuthError as error:
        return Step(STEP, TITLE, FAIL, error.message, error.hint or "run again later")
    except requests.RequestException as exc:
        return Step(
            STEP,
            TITLE,
            FAIL,
            f"the phone-number list request failed ({type(exc).__name__})",
            "run again; check the network if it persists",
        )
    if response.status_code != 200:
        code = error_code(response)
        fix = (
            "give the app the ReadAccounts permission in the Developer Console"
            if response.status_code in (401, 403)
            else "run again later"
        )
        detail = f"the phone-number list answered HTTP {response.status_code} {code}".strip()
        return Step(STEP, TITLE, FAIL, detail, fix)
    try:
        records = [r for r in response.json().get("records", []) if isinstance(r, dict)]
    except (ValueError, AttributeError):
        return Step(STEP, TITLE, FAIL, "the phone-number list was not readable JSON", "run again")

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
    # Compared as numbers: the list may write them without the "+"
    # (docs/ringcentral.md#sender-number).
    mine = next((r for r in records if same_number(r.get("phoneNumber", ""), from_number)), None)
    if mine is None:
        return Step(STEP, TITLE, FAIL, f"{from_number} is not a number of {user}", fix)
    features = mine.get("features", [])
    if "SmsSender" not in features:
        listed = ", ".join(features) or "none"
        detail = f"{from_number} lacks the SmsSender feature (it has: {listed})"
        if "A2PSmsSender" in features:
            # A number is SmsSender or A2P, never both; the app sends through /sms only.
            detail += ": it is a high-volume (A2P) number, which the SMS endpoint refuses"
        return Step(STEP, TITLE, FAIL, detail, fix)
    if mine.get("status") != "Normal":
        return Step(STEP, TITLE, FAIL, f"{from_number} has status {mine.get('status')!r}", fix)
    notes = []
    if from_number.startswith("+1"):
        notes.append("US local numbers also need a confirmed 10DLC campaign: not checked here")
    detail = f"{from_number} belongs to {user}, with SmsSender, status Normal"
    return Step(STEP, TITLE, OK, detail, notes=notes)
