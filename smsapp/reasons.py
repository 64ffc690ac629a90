"""RingCentral error and delivery codes in words a staff member understands."""

from __future__ import annotations

from smsapp import delivery_codes

# Send errors that no retry can fix (docs/ringcentral.md#sending).
PERMANENT_SEND_CODES = {
    "MSG-242": "The sender number cannot send texts: it is not assigned to the RingCentral "
    "extension or lacks the SMS feature. An admin must check SMS_FROM_NUMBER.",
    "MSG-240": "RingCentral refused to send to this recipient from this account.",
    "MSG-243": "RingCentral refused this text for this recipient.",
    "MSG-304": "RingCentral refused this text: the account cannot send it.",
    "MSG-338": "The text is too long: at most 1000 characters.",
    "CMN-101": "RingCentral found the message invalid (often the recipient's number).",
    "CMN-401": "The RingCentral user is not allowed to send texts; an admin must grant it.",
    "CMN-408": "The RingCentral user is not allowed to send texts; an admin must grant it.",
}

# Delivery outcomes (deliveryErrorCode from the message store) live in one table,
# smsapp/delivery_codes.py; these names stay for callers that used them.
OPTED_OUT = delivery_codes.CODES["SMS-RC-413"].reason
NOT_REGISTERED = delivery_codes.CODES["SMS-UP-414"].reason
NO_STATUS = delivery_codes.NO_RECEIPT


def send_error_reason(code: str, status: int) -> str:
    if code in PERMANENT_SEND_CODES:
        return PERMANENT_SEND_CODES[code]
    return f"RingCentral refused the text (HTTP {status}{f', {code}' if code else ''})."


def delivery_error_reason(code: str) -> str:
    return delivery_codes.lookup(code).reason


def carrier_gave_no_status(code: str) -> bool:
    """True for "look again later" codes: the carrier has not (yet) said what happened."""
    return delivery_codes.lookup(code).outcome is delivery_codes.Outcome.LOOK_AGAIN
