"""The `reason_class` label of smsapp_texts_total: why an attempt or a text ended as it did, in
a handful of words (never the code itself: codes are many, and some are RingCentral's own)."""

from __future__ import annotations

from smsapp.backends.base import (
    AmbiguousSmsError,
    AuthWaitSmsError,
    ConfigurationSmsError,
    PermanentSmsError,
    RateLimitedSmsError,
    SmsError,
    TransientSmsError,
)
from smsapp.delivery_codes import Outcome

# Most specific first: RateLimited and AuthWait are TransientSmsErrors too.
_SEND_CLASSES: tuple[tuple[type[SmsError], str], ...] = (
    (RateLimitedSmsError, "rate_limit"),
    (AuthWaitSmsError, "login"),
    (ConfigurationSmsError, "configuration"),
    (AmbiguousSmsError, "ambiguous"),
    (TransientSmsError, "transient"),
    (PermanentSmsError, "permanent"),
)
# A carrier's delivery code, by its class in smsapp/delivery_codes.py.
_DELIVERY_CLASSES = {
    Outcome.PERMANENT: "permanent",
    Outcome.RETRY_LATER: "retry_later",
    Outcome.LOOK_AGAIN: "look_again",
    Outcome.OPERATOR: "operator",
    Outcome.CHANGE_CONTENT: "change_content",
}


def send_error_class(error: SmsError) -> str:
    for kind, name in _SEND_CLASSES:
        if isinstance(error, kind):
            return name
    return "other"


def delivery_class(outcome: Outcome) -> str:
    return _DELIVERY_CLASSES.get(outcome, "other")
