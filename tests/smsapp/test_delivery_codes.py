"""smsapp/delivery_codes.py: the table of docs/delivery-codes.md, and a default for codes
outside it."""

from __future__ import annotations

import pytest

from smsapp import delivery_codes
from smsapp.delivery_codes import Outcome
from tests.support.delivery_table import EXPECTED_CLASS


def test_the_table_has_every_documented_code_with_its_class():
    assert {code: entry.outcome.value for code, entry in delivery_codes.CODES.items()} == (
        EXPECTED_CLASS
    )
    reasons_given = [entry.reason for entry in delivery_codes.CODES.values()]
    assert all(reason.strip() for reason in reasons_given)


@pytest.mark.parametrize(
    ("code", "outcome", "says"),
    [
        ("SMS-XX-413", Outcome.PERMANENT, "replied STOP"),  # any -413 is an opt-out
        ("SMS-CAR-414x", Outcome.PERMANENT, "SMS-CAR-414x"),  # not a code: generic
        ("SMS-UP-414", Outcome.OPERATOR, "10DLC"),
        ("SMS-RC-999", Outcome.PERMANENT, "SMS-RC-999"),
        ("SMS-RC-502", Outcome.OPERATOR, "admin"),
        ("SMS-CAR-503", Outcome.RETRY_LATER, "temporary carrier problem"),
        ("SMS-A2P-430", Outcome.CHANGE_CONTENT, "spam filter"),  # any -430 is a spam filter
        ("DeliveryFailed", Outcome.PERMANENT, "without an error code"),
    ],
)
def test_codes_outside_the_table_get_a_default_by_suffix_or_a_generic_reason(code, outcome, says):
    entry = delivery_codes.lookup(code)
    assert entry.outcome is outcome
    assert says in entry.reason
