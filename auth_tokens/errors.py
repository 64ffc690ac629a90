"""Typed token errors: each says what happened, what to do, and never carries a secret."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ImproperlyConfigured


class RingCentralAuthError(Exception):
    """Base class. `code` is RingCentral's errorCode (or ours), `hint` what a person can do."""

    def __init__(self, message: str, *, code: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class TokenConfigurationError(RingCentralAuthError, ImproperlyConfigured):
    """Settings are missing: nothing will work until someone sets them."""


class AuthThrottled(RingCentralAuthError):
    """The token endpoint said 429 (or 503 with Retry-After): wait, do not call again before."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        until: datetime | None = None,
        code: str = "",
        hint: str = "",
    ) -> None:
        super().__init__(message, code=code, hint=hint)
        self.retry_after = retry_after
        self.until = until


class AuthUnavailable(RingCentralAuthError):
    """A transient failure (5xx, timeout, connection): retry later."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, code: str = "", hint: str = ""
    ) -> None:
        super().__init__(message, code=code, hint=hint)
        self.retry_after = retry_after


class TokenLockTimeout(AuthUnavailable):
    """Another process held the token row longer than the lock timeout."""


class InvalidGrant(RingCentralAuthError):
    """The refresh token was refused (expired, revoked, reused): log in again instead."""


class CredentialsRejected(RingCentralAuthError):
    """RingCentral refused the app or user credentials: a person must fix the configuration."""


class CredentialsBlocked(CredentialsRejected):
    """Automatic logins are paused after a rejection, until the configuration changes or an
    admin clears the block; raised without calling RingCentral."""
