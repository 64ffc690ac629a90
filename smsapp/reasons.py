"""RingCentral error and delivery codes in words a staff member understands."""

from __future__ import annotations

# Send errors that no retry can fix (ringcentral-api.md, Sending).
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

# deliveryErrorCode suffixes and codes, from the message store.
OPTED_OUT = "The recipient has opted out of texts from this number (they replied STOP)."
LANDLINE = "The number cannot receive texts: it is a landline or not a valid mobile number."
NOT_REGISTERED = (
    "Carriers refused it: the sending number is not registered for business texting (10DLC)."
)
NO_STATUS = "The carrier gave no delivery report; the text may still have arrived."


def send_error_reason(code: str, status: int) -> str:
    if code in PERMANENT_SEND_CODES:
        return PERMANENT_SEND_CODES[code]
    return f"RingCentral refused the text (HTTP {status}{f', {code}' if code else ''})."


def delivery_error_reason(code: str) -> str:
    if code.endswith("-413"):
        return OPTED_OUT
    if code.endswith("-410") or code == "SMS-CAR-411":
        return LANDLINE
    if code in ("SMS-UP-414", "SMS-CAR-414"):
        return NOT_REGISTERED
    if code in ("SMS-CAR-104", "SMS-CAR-199"):
        return NO_STATUS
    return f"The text was not delivered ({code or 'no reason given'})."


def carrier_gave_no_status(code: str) -> bool:
    return code in ("SMS-CAR-104", "SMS-CAR-199")
