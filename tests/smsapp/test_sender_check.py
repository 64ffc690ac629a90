"""smsapp/sender_check.py: ringcentral_check's sender step (5), its rule for SMS_FROM_NUMBER and
its check against the simulator over HTTP. The token steps (1 to 4): tests/auth_tokens/
test_setup_check.py."""

from __future__ import annotations

import re

import pytest
from django.core.management import get_commands

from ringcentral_sim import SimulatorControl
from ringcentral_sim import config as sim
from smsapp import sender_check
from smsapp.phones import is_e164
from tests.support.commands import outcomes, ringcentral_check, run, step_text


def test_ringcentral_check_is_an_smsapp_command() -> None:
    # The sender number is an SMS question: auth_tokens must not read SMS_FROM_NUMBER.
    assert get_commands()["ringcentral_check"] == "smsapp"


@pytest.mark.parametrize(
    "number",
    ["+16505550100", "+4930123456", "+1650555", "+123456", "16505550100", "+1 650 555 0100"],
)
def test_step_one_takes_the_projects_one_e164_rule(number: str) -> None:
    # Whatever the form and the send service accept, the check accepts, and nothing else.
    assert (sender_check.settings_problem(number) is None) == is_e164(number)


def test_a_missing_sender_is_not_a_shape_problem() -> None:
    # Step 1 names it among the missing settings instead.
    assert sender_check.settings_problem("") is None


@pytest.mark.django_db
def test_ringcentral_check_fails_settings_step_for_a_seven_digit_sender(
    rc_settings, simulator: SimulatorControl
) -> None:
    # Seven digits passed the command's own old pattern, but no form or service accepts it.
    rc_settings.SMS_FROM_NUMBER = "+1650555"

    out = ringcentral_check(expect={1: "FAIL", 2: "ok", 3: "ok", 4: "ok", 5: "skip"})
    assert "SMS_FROM_NUMBER '+1650555' is not an E.164 number" in step_text(out, 1)
    assert "needs a valid SMS_FROM_NUMBER (step 1)" in step_text(out, 5)


@pytest.mark.django_db
def test_ringcentral_check_names_a_missing_sender_with_the_other_settings(
    rc_settings, simulator: SimulatorControl
) -> None:
    rc_settings.SMS_FROM_NUMBER = ""
    rc_settings.RINGCENTRAL_CLIENT_ID = ""

    out = ringcentral_check(expect={1: "FAIL", 2: "ok", 3: "skip", 4: "skip", 5: "skip"})
    assert "missing RINGCENTRAL_CLIENT_ID, SMS_FROM_NUMBER" in step_text(out, 1)


@pytest.mark.django_db
def test_ringcentral_check_fails_sender_step_for_a_number_the_extension_lacks(
    rc_settings,
) -> None:
    rc_settings.SMS_FROM_NUMBER = "+16505550199"

    out = ringcentral_check(expect={1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "FAIL"})
    sender = step_text(out, 5)
    assert "+16505550199 is not a number of" in sender
    assert re.search(r"fix: .*SMS numbers: \+16505550100$", sender, re.MULTILINE)


@pytest.mark.django_db
def test_ringcentral_check_fails_sender_step_for_a_number_without_sms(
    rc_settings, simulator: SimulatorControl
) -> None:
    user = sim.default_user()
    user["phone_numbers"].append(
        {
            "id": "500000002",
            "phoneNumber": "+16505550111",
            "features": ["CallerId"],
            "status": "Normal",
            "usageType": "DirectNumber",
            "type": "VoiceFax",
        }
    )
    simulator.configure(users=[user])
    rc_settings.SMS_FROM_NUMBER = "+16505550111"

    out, error = run("ringcentral_check")

    assert error is not None
    assert outcomes(out)[5] == "FAIL"
    assert "lacks the SmsSender feature" in step_text(out, 5)
    assert "SMS numbers: +16505550100" in step_text(out, 5)


@pytest.mark.django_db
def test_ringcentral_check_fails_sender_step_for_the_a2p_number(rc_settings) -> None:
    rc_settings.SMS_FROM_NUMBER = sim.DEFAULT_A2P_NUMBER

    out = ringcentral_check(expect={1: "ok", 2: "ok", 3: "ok", 4: "ok", 5: "FAIL"})
    sender = step_text(out, 5)
    assert "lacks the SmsSender feature" in sender
    assert "high-volume (A2P) number" in sender
    # The SmsSender number is the one offered, never the A2P one.
    assert re.search(r"fix: .*SMS numbers: \+16505550100$", sender, re.MULTILINE)
