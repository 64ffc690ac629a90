"""The backend contract: send one text, find it again after an ambiguous failure, read status.

Each error class carries what a failed attempt means for the text (`on_failure`), so the
decision lives with the error, not in the order of a caller's checks; the table of outcomes is
in docs/exactly-once.md ("When a send fails").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


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


class OnFailure(enum.Enum):
    """What a failed send means for the text: the closed set `services.sending` handles."""

    UNCERTAIN = "uncertain"  # may have gone out: look it up before anything else
    FAIL = "fail"  # sending again cannot help
    RETRY = "retry"  # certainly not sent: again after a backoff, counting the attempt
    WAIT = "wait"  # not processed (throttled): again after retry_after, no attempt used
    HOLD = "hold"  # not sent, and only a person can fix why: wait for them, within a bound


class SmsError(Exception):
    # An error that does not say whether the text left is taken as "it may have": looking it
    # up costs a store search, guessing wrong costs a text sent twice.
    on_failure: ClassVar[OnFailure] = OnFailure.UNCERTAIN
    # For HOLD: what the text waits for, in staff's words ("Waiting for ...").
    waiting_for: ClassVar[str] = ""
    # The code recorded on the text when the provider gave none.
    default_code: ClassVar[str] = ""

    def __init__(self, reason: str, *, code: str = "", retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code or self.default_code
        self.retry_after = retry_after


class PermanentSmsError(SmsError):
    """Sending again cannot help (a refused sender number, an invalid recipient, ...)."""

    on_failure = OnFailure.FAIL


class TransientSmsError(SmsError):
    """It certainly was not sent (5xx before processing, no connection): retry later."""

    on_failure = OnFailure.RETRY


class RateLimitedSmsError(TransientSmsError):
    """Throttled (a 429, or the fleet's own limiter): not sent; wait `retry_after`."""

    on_failure = OnFailure.WAIT


class AuthWaitSmsError(TransientSmsError):
    """No usable RingCentral login right now (throttled, rejected, unreachable): hold it."""

    on_failure = OnFailure.HOLD
    waiting_for = "a working RingCentral login"
    default_code = "AUTH"


class ConfigurationSmsError(SmsError):
    """The settings make sending impossible (RingCentral credentials missing,
    RINGCENTRAL_SERVER_URL no usable URL): raised before any request, so nothing left. Not a
    login problem: no retry or login can clear it, only an admin changing the settings."""

    on_failure = OnFailure.HOLD
    waiting_for = "an admin to fix the RingCentral settings"
    default_code = "CONFIG"


class AmbiguousSmsError(SmsError):
    """The request may have been processed (timeout or dropped connection after it left):
    resending blindly could text someone twice, so look it up first."""

    on_failure = OnFailure.UNCERTAIN


class BaseSmsBackend:
    # False for backends that only pretend (console, locmem): in production that means texts
    # are marked sent while nobody receives them, which /healthz and the banner then say.
    sends_for_real: ClassVar[bool] = True
    # True when texts go through RingCentral, so its login, reachability and settings are
    # part of sending health. A class attribute, so a subclass of the RingCentral backend
    # (another name, a tweak) counts as RingCentral too.
    talks_to_ringcentral: ClassVar[bool] = False
    # Most delivery-status reads one status-check run asks for. A backend with a rate limit
    # sets it from that limit; the rest of the due texts wait for the next run.
    delivery_reads_per_run: ClassVar[int] = 20

    def send(self, sms: OutgoingSms) -> str:
        """Send one text; return the provider's message id or raise an SmsError."""
        raise NotImplementedError

    def find_sent(self, sms: OutgoingSms, since: datetime, until: datetime) -> list[str]:
        """Provider ids of texts like `sms` accepted between `since` and `until`, best match
        first. Raises TransientSmsError when it cannot tell (the outcome stays uncertain)."""
        raise NotImplementedError

    def delivery(self, provider_message_id: str) -> Delivery:
        raise NotImplementedError
