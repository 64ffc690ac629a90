"""The backend contract: send one text, find it again after an ambiguous failure, read status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OutgoingSms:
    from_number: str
    to_number: str
    text: str


@dataclass(frozen=True)
class Delivery:
    """What the provider knows now: "pending" (no receipt yet), "delivered", "failed" with the
    provider's error code, or "unknown" (it will never know). A "failed" code is not always
    final: the status check looks it up in smsapp/delivery_codes.py, where "look again later"
    codes keep the text "sent" and checked again."""

    state: str
    error_code: str = ""


class SmsError(Exception):
    def __init__(self, reason: str, *, code: str = "", retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retry_after = retry_after


class PermanentSmsError(SmsError):
    """Sending again cannot help (a refused sender number, an invalid recipient, ...)."""


class TransientSmsError(SmsError):
    """It certainly was not sent (5xx before processing, no connection): retry later."""


class RateLimitedSmsError(TransientSmsError):
    """Throttled (a 429, or the fleet's own limiter): not sent; wait `retry_after`."""


class AuthWaitSmsError(TransientSmsError):
    """No usable RingCentral login right now (throttled, rejected, unreachable): hold it."""

    waiting_for = "a working RingCentral login"


class AmbiguousSmsError(SmsError):
    """The request may have been processed (timeout or dropped connection after it left):
    resending blindly could text someone twice, so look it up first."""


class ConfigurationSmsError(AuthWaitSmsError):
    """The settings make sending impossible (e.g. RINGCENTRAL_SERVER_URL is no URL): nothing
    left, so the text is held like a login problem until an admin fixes them."""

    waiting_for = "the RingCentral settings to be fixed"


class BaseSmsBackend:
    # False for backends that only pretend (console, locmem): in production that means texts
    # are marked sent while nobody receives them, which /healthz and the banner then say.
    sends_for_real = True

    def send(self, sms: OutgoingSms) -> str:
        """Send one text; return the provider's message id or raise an SmsError."""
        raise NotImplementedError

    def find_sent(self, sms: OutgoingSms, since: datetime, until: datetime) -> list[str]:
        """Provider ids of texts like `sms` accepted between `since` and `until`, best match
        first. Raises TransientSmsError when it cannot tell (the outcome stays uncertain)."""
        raise NotImplementedError

    def delivery(self, provider_message_id: str) -> Delivery:
        raise NotImplementedError
