"""smsapp/reasons.py: RingCentral's send and delivery codes in words a staff member understands."""

from __future__ import annotations

import pytest

from smsapp import reasons
from tests.support.delivery_table import EXPECTED_CLASS

# docs/ringcentral.md#sending: refusals no retry can fix, and the setting or person each needs.
PERMANENT_SEND_CODES_SAY = {
    "MSG-242": "SMS_FROM_NUMBER",  # the sender number is not the extension's SMS number
    "MSG-338": "1000 characters",  # too long
    "CMN-401": "admin",  # the user may not send texts: an admin grants it
    "CMN-408": "admin",
}


@pytest.mark.parametrize(("code", "says"), PERMANENT_SEND_CODES_SAY.items())
def test_a_permanent_send_code_says_what_to_fix_without_the_http_status(code, says):
    reason = reasons.send_error_reason(code, 403)
    assert says in reason
    assert "HTTP" not in reason  # staff words, not the protocol's


@pytest.mark.parametrize(
    ("code", "status", "ends"),
    [("MSG-999", 400, "(HTTP 400, MSG-999)."), ("", 500, "(HTTP 500).")],
)
def test_an_undescribed_send_refusal_names_its_status_and_code(code, status, ends):
    reason = reasons.send_error_reason(code, status)
    assert reason.startswith("RingCentral refused the text")
    assert reason.endswith(ends)


def test_every_described_send_refusal_is_a_sentence():
    texts = reasons.PERMANENT_SEND_CODES.values()
    assert [text for text in texts if not (text[0].isupper() and text.endswith("."))] == []


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("SMS-RC-413", "replied STOP"),  # in the table
        ("SMS-XY-413", "replied STOP"),  # any -413 is an opt-out (docs/delivery-codes.md)
        ("SMS-CAR-999", "SMS-CAR-999"),  # not described: named, so an admin can look it up
    ],
)
def test_a_delivery_failure_reason_follows_the_documented_rules(code, says):
    assert says in reasons.delivery_error_reason(code)


def test_the_carrier_gave_no_status_exactly_for_the_look_again_codes():
    look_again = {code for code, cls in EXPECTED_CLASS.items() if cls == "L"}
    assert {code for code in EXPECTED_CLASS if reasons.carrier_gave_no_status(code)} == look_again
    assert not reasons.carrier_gave_no_status("SMS-CAR-999")  # unknown: an outcome, not a wait
    assert not reasons.carrier_gave_no_status("")


def test_the_names_kept_for_older_callers_say_what_they_promise():
    assert "STOP" in reasons.OPTED_OUT
    assert "10DLC" in reasons.NOT_REGISTERED
    assert reasons.NO_STATUS.startswith("Sent, no delivery receipt")
