"""RingCentral's delivery error codes: what each means, what class of outcome it is, and what a
staff member should read (docs/ringcentral.md#delivery-error-codes; docs/delivery-codes.md).

The class decides what the status check does with the text (smsapp/services/delivery.py):
P, R, A and C end it as failed with the reason; L keeps it "sent" and looks again later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Outcome(StrEnum):
    PERMANENT = "P"  # sending this text to this recipient again will fail the same way
    RETRY_LATER = "R"  # a temporary failure: the same text may go through later
    LOOK_AGAIN = "L"  # not an outcome yet: read the record again later
    OPERATOR = "A"  # the account or the sender number needs an admin (or a reset)
    CHANGE_CONTENT = "C"  # the wording or form of the text was refused

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Outcome.PERMANENT: "permanent",
    Outcome.RETRY_LATER: "retry later",
    Outcome.LOOK_AGAIN: "look again later",
    Outcome.OPERATOR: "operator action",
    Outcome.CHANGE_CONTENT: "change the content",
}


@dataclass(frozen=True)
class DeliveryCode:
    code: str
    meaning: str  # RingCentral's meaning, short, for docs and admins
    outcome: Outcome
    reason: str  # what staff read on the text: what happened and what to do
    # LOOK_AGAIN only: read the record again this long after seeing the code, at most
    # `look_again_times` times; after that the text ends as "sent, no delivery receipt".
    look_again_after: timedelta | None = None
    look_again_times: int = 0


# Reasons shared by several codes. Each says what it means for this text and what to do.
_INVALID = (
    "The number cannot receive texts: the carrier reports it invalid, unallocated or of a kind "
    "that cannot take texts (such as a landline). Check the number with the recipient; sending "
    "to it again will fail the same way."
)
_OPTED_OUT = (
    "The recipient has opted out of texts from this number (they replied STOP). Nothing can "
    "reach them until they text START to this number; do not send again before that."
)
_SPAM = (
    "A spam filter blocked this text. Sending the same words again will be blocked again: "
    "write a new text with plainer wording (no link shorteners, no all-caps, no pushy offers)."
)
_RC_INTERNAL = (
    "RingCentral could not send it because of an internal or account provisioning problem. "
    "An admin must check the account's texting setup in RingCentral (or ask RingCentral "
    "support) if it keeps happening; sending again later may work."
)
_NOT_REGISTERED = (
    "Carriers refused it: the sending number is not registered for business texting (10DLC). "
    "An admin must register the number to an approved 10DLC campaign in RingCentral; send "
    "again once the registration is approved."
)
_TOO_LONG = (
    "The recipient's carrier refused it as too long. Shorten the text and send it as a new one."
)
_MALFORMED = (
    "The carrier refused the text as malformed. Remove unusual characters or symbols and send "
    "it as a new text."
)
_CARRIER_FAILED = (
    "A temporary carrier problem: the carrier failed without giving a reason. Retry later with "
    "Send again; if it keeps failing, ask the recipient whether their phone can receive texts."
)
_CARRIER_LIMIT = (
    "The carriers' daily limit for the sender's 10DLC brand or campaign was reached. It resets "
    "the next day: send again tomorrow. If it happens often, an admin must ask RingCentral for a "
    "higher campaign limit."
)
_NOT_YET = "The carrier has not reported whether it arrived yet; the app looks again in an hour."
_MAYBE = "The carrier does not know whether it arrived; it may have been delivered."

_TABLE: list[tuple[tuple[str, ...], str, Outcome, str]] = [
    (
        ("SMS-RC-403",),
        "daily or monthly sending limit reached",
        Outcome.OPERATOR,
        "RingCentral's daily or monthly sending limit for this account was reached. It resets "
        "by itself (daily: the next day; monthly: next month): send again after that. An admin "
        "must ask RingCentral for a higher limit if this happens often.",
    ),
    (
        ("SMS-RC-410", "SMS-UP-410", "SMS-UP-411", "SMS-UP-412", "SMS-CAR-411"),
        "destination invalid, unallocated or unsupported",
        Outcome.PERMANENT,
        _INVALID,
    ),
    (
        ("SMS-RC-413", "SMS-UP-413", "SMS-CAR-413"),
        "recipient opted out (STOP)",
        Outcome.PERMANENT,
        _OPTED_OUT,
    ),
    (("SMS-RC-430", "SMS-UP-430", "SMS-CAR-430"), "spam filter", Outcome.CHANGE_CONTENT, _SPAM),
    (
        ("SMS-RC-500", "SMS-RC-501", "SMS-RC-503", "SMS-RC-504"),
        "RingCentral internal or provisioning error",
        Outcome.OPERATOR,
        _RC_INTERNAL,
    ),
    (
        ("SMS-UP-414", "SMS-CAR-414"),
        "sender number not set up for SMS (10DLC)",
        Outcome.OPERATOR,
        _NOT_REGISTERED,
    ),
    (
        ("SMS-UP-431",),
        "sender number flagged for spam",
        Outcome.OPERATOR,
        "Carriers flagged the sending number for spam, so its texts are blocked. An admin must "
        "ask RingCentral support to have the number reviewed; send again once it is cleared.",
    ),
    (("SMS-UP-432", "SMS-CAR-432"), "too long for the carrier", Outcome.CHANGE_CONTENT, _TOO_LONG),
    (("SMS-UP-433", "SMS-CAR-433"), "malformed", Outcome.CHANGE_CONTENT, _MALFORMED),
    (
        ("SMS-CAR-434",),
        "media too large",
        Outcome.CHANGE_CONTENT,
        "The carrier refused the text because its media is too large. Send a smaller file, or a "
        "link to it, as a new text.",
    ),
    (
        ("SMS-CAR-435",),
        "shortened URL rejected",
        Outcome.CHANGE_CONTENT,
        "The carrier refused the text because it contains a shortened link (bit.ly and the "
        "like). Write the full link instead and send it as a new text.",
    ),
    (
        ("SMS-UP-500", "SMS-CAR-500", "SMS-CAR-431"),
        "upstream or carrier failure, no reason given",
        Outcome.RETRY_LATER,
        _CARRIER_FAILED,
    ),
    (
        ("SMS-CAR-400",),
        "carrier cannot deliver this kind of message",
        Outcome.PERMANENT,
        "The recipient's carrier cannot deliver this kind of message to this number. Sending "
        "again will fail the same way; reach the recipient another way.",
    ),
    (
        ("SMS-CAR-412",),
        "subscriber unavailable",
        Outcome.PERMANENT,
        "The recipient's carrier reports the subscriber unavailable (the line is suspended or "
        "out of service). Check the number with the recipient before sending again.",
    ),
    (
        ("SMS-CAR-410",),
        "expired before reaching the carrier",
        Outcome.RETRY_LATER,
        "A temporary carrier problem: the text expired before it reached the recipient's "
        "carrier. Retry later with Send again.",
    ),
    (
        ("SMS-CAR-450", "SMS-CAR-451", "SMS-CAR-452"),
        "carrier daily 10DLC brand or campaign limit",
        Outcome.OPERATOR,
        _CARRIER_LIMIT,
    ),
    (
        ("SMS-CAR-461",),
        "toll-free number not verified",
        Outcome.OPERATOR,
        "Carriers refused it: the sending toll-free number is not verified. An admin must "
        "complete toll-free verification for the number in RingCentral; send again once it is "
        "verified.",
    ),
]

# "Look again later" codes carry their schedule.
_LOOK_AGAIN = [
    DeliveryCode(
        "SMS-CAR-104",
        'carrier has not reported a status: "check again after an hour"',
        Outcome.LOOK_AGAIN,
        _NOT_YET,
        # The documented advice is one hour; three looks (three hours) give a slow carrier
        # time without polling a record for ever.
        look_again_after=timedelta(hours=1),
        look_again_times=3,
    ),
    DeliveryCode(
        "SMS-CAR-199",
        "unknown, may have been delivered",
        Outcome.LOOK_AGAIN,
        _MAYBE + " The app looks once more in an hour.",
        # One more look in case a late receipt turns it into Delivered; then final unknown.
        look_again_after=timedelta(hours=1),
        look_again_times=1,
    ),
]

CODES: dict[str, DeliveryCode] = {
    code: DeliveryCode(code, meaning, outcome, reason)
    for codes, meaning, outcome, reason in _TABLE
    for code in codes
} | {entry.code: entry for entry in _LOOK_AGAIN}

# What a text ends as when no receipt ever comes (status stays "sent", checks stop). The
# error code marks it for scripts: a "sent" text only carries an error code in this case.
NO_RECEIPT_CODE = "NO-RECEIPT"
NO_RECEIPT = (
    "Sent, no delivery receipt: the carrier never confirmed delivery, so the app stopped "
    "checking. The text may still have arrived; ask the recipient if it matters."
)


def no_receipt_reason(code: str = "") -> str:
    """The final wording for a text left without a receipt, after a look-again `code`."""
    if code in CODES:
        return f"{NO_RECEIPT} (The carrier's last word was {code}: {CODES[code].meaning}.)"
    return NO_RECEIPT


_SUFFIX = re.compile(r"-(\d{3})$")


def lookup(code: str) -> DeliveryCode:
    """The table's entry for `code`, or a sensible default for a code the table lacks."""
    if code in CODES:
        return CODES[code]
    match = _SUFFIX.search(code)
    number = int(match.group(1)) if match else 0
    source = code.split("-")[1] if code.startswith("SMS-") and code.count("-") >= 2 else ""
    # Defaults by suffix, where every listed code with that suffix means the same thing.
    # -410 is not one: SMS-CAR-410 is "retry later", the others "invalid number".
    if number == 413:
        return DeliveryCode(code, "recipient opted out (STOP)", Outcome.PERMANENT, _OPTED_OUT)
    if number == 414:
        return DeliveryCode(
            code, "sender number not set up for SMS (10DLC)", Outcome.OPERATOR, _NOT_REGISTERED
        )
    if number == 430:
        return DeliveryCode(code, "spam filter", Outcome.CHANGE_CONTENT, _SPAM)
    if source == "RC" and 500 <= number <= 599:
        return DeliveryCode(
            code, "RingCentral internal or provisioning error", Outcome.OPERATOR, _RC_INTERNAL
        )
    if source in ("UP", "CAR") and 500 <= number <= 599:
        return DeliveryCode(
            code, "upstream or carrier failure", Outcome.RETRY_LATER, _CARRIER_FAILED
        )
    return DeliveryCode(code, "not in the table", Outcome.PERMANENT, generic_reason(code))


def generic_reason(code: str) -> str:
    """For a code nobody has described: name it, so an admin can look it up."""
    if code in ("", "DeliveryFailed", "SendingFailed"):
        return (
            f"The text was not delivered: RingCentral marked it {code or 'failed'} without an "
            "error code. Sending again may or may not work."
        )
    return (
        f"The text was not delivered: RingCentral reported {code or 'no reason'}, a code this "
        "app does not describe. An admin can look it up in RingCentral's SMS error list; "
        "sending again may or may not work."
    )
