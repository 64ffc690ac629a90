"""Which kind of failure a text's error code is, for grouping the dashboard's failure reasons:
the delivery table's classes (smsapp.delivery_codes.Outcome) for carrier codes, the same words
for the codes a send attempt ends with."""

from __future__ import annotations

from smsapp import delivery_codes
from smsapp.reasons import PERMANENT_SEND_CODES

Outcome = delivery_codes.Outcome
# Codes a text fails with when it waited for a person (a rejected login, incomplete settings)
# or ran out of attempts: smsapp.services.sending's _hold and _retry.
_OPERATOR_PREFIXES = ("OAU-", "CONFIG", "AUTH")
_RETRY_CODES = {"TRANSIENT", "TIMEOUT", "CMN-301", "HTTP-429"}


def reason_class(code: str) -> str:
    """ "permanent", "retry later", "operator action", "change the content" or "look again
    later" (as in docs/delivery-codes.md), or "other" for a code nothing describes."""
    if code.startswith("SMS-"):
        return delivery_codes.lookup(code).outcome.label
    if code in PERMANENT_SEND_CODES:
        return Outcome.PERMANENT.label
    if code.startswith(_OPERATOR_PREFIXES):
        return Outcome.OPERATOR.label
    if code in _RETRY_CODES or code.startswith(("HTTP-5", "CMN-5")):
        return Outcome.RETRY_LATER.label
    return "other"
