"""Token health in words, for the admin, the token_status command and health checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from auth_tokens.credentials import Credentials
from auth_tokens.models import RingCentralToken
from auth_tokens.services import access_valid, blocked_for

NOT_CONFIGURED = "not_configured"
NOT_LOGGED_IN = "not_logged_in"
HEALTHY = "healthy"
ACCESS_EXPIRED = "access_expired"
REFRESH_EXPIRED = "refresh_expired"
THROTTLED = "throttled"
BLOCKED = "blocked"
# States in which texts cannot go out until time passes or a person acts.
ATTENTION_STATES = {NOT_CONFIGURED, THROTTLED, BLOCKED}


@dataclass
class TokenStatusReport:
    """What a person reads about a token row: its state (one of the constants above), a
    summary in words, and the facts behind them. Computed on demand, never stored."""

    state: str
    summary: str
    server_url: str = ""
    username: str = ""
    extension: str = ""
    login_grant: str = ""
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    last_refresh_at: datetime | None = None
    last_login_at: datetime | None = None
    obtained_by: str = ""
    last_error: dict[str, Any] | None = None
    throttled_until: datetime | None = None
    refresh_count: int = 0
    login_count: int = 0
    access_fingerprint: str = "none"
    refresh_fingerprint: str = "none"

    @property
    def needs_attention(self) -> bool:
        return self.state in ATTENTION_STATES

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name, value in data.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat()
        if self.last_error and isinstance(self.last_error.get("at"), datetime):
            data["last_error"] = {**self.last_error, "at": self.last_error["at"].isoformat()}
        return data


def token_status(*, credentials: Credentials | None = None) -> TokenStatusReport:
    """The status of the configured credential set."""
    creds = credentials or Credentials.from_settings()
    missing = creds.missing_settings()
    if missing:
        return _without_row(creds, NOT_CONFIGURED, f"not configured: set {', '.join(missing)}")
    row = RingCentralToken.objects.filter(credential_key=creds.key).first()
    if row is None:
        return _without_row(creds, NOT_LOGGED_IN, "not logged in yet: will log in on first use")
    return describe(row, blocked_now=blocked_for(row, creds))


def _without_row(creds: Credentials, state: str, summary: str) -> TokenStatusReport:
    return TokenStatusReport(
        state,
        summary,
        server_url=creds.server_url,
        username=creds.username,
        extension=creds.extension,
        login_grant=creds.grant,
    )


def describe(row: RingCentralToken, *, blocked_now: bool | None = None) -> TokenStatusReport:
    """The status of one token row. `blocked_now` is False when the block no longer applies
    because the configured credentials changed since the rejection."""
    now = timezone.now()
    blocked = row.blocked if blocked_now is None else blocked_now
    access_ok = access_valid(row, now)
    refresh_ok = bool(
        row.refresh_token_encrypted and row.refresh_expires_at and row.refresh_expires_at > now
    )
    if blocked:
        state, summary = BLOCKED, "credentials rejected: action needed"
    elif row.throttled_until and row.throttled_until > now and not access_ok:
        until = timezone.localtime(row.throttled_until).strftime("%H:%M:%S %Z")
        state, summary = THROTTLED, f"throttled until {until}"
    elif access_ok:
        state, summary = HEALTHY, "healthy"
    elif refresh_ok:
        state, summary = ACCESS_EXPIRED, "access expired, will refresh on next use"
    elif row.refresh_expires_at or row.last_login_at:
        state, summary = REFRESH_EXPIRED, "refresh expired, will log in on next use"
    else:
        state, summary = NOT_LOGGED_IN, "not logged in yet: will log in on first use"
    last_error = None
    if row.last_error_code or row.last_error_message:
        last_error = {
            "code": row.last_error_code,
            "message": row.last_error_message,
            "hint": row.last_error_hint,
            "at": row.last_error_at,
            # The row keeps its last error after a success; a renewal since then means it is
            # history (shown as past, without its advice), not the current state.
            "resolved": state not in (BLOCKED, THROTTLED)
            and _renewed_since(row, row.last_error_at),
        }
    return TokenStatusReport(
        state,
        summary,
        server_url=row.server_url,
        username=row.username,
        extension=row.extension,
        login_grant=row.login_grant,
        access_expires_at=row.access_expires_at,
        refresh_expires_at=row.refresh_expires_at,
        last_refresh_at=row.last_refresh_at,
        last_login_at=row.last_login_at,
        obtained_by=row.obtained_by,
        last_error=last_error,
        throttled_until=row.throttled_until,
        refresh_count=row.refresh_count,
        login_count=row.login_count,
        access_fingerprint=row.access_fingerprint,
        refresh_fingerprint=row.refresh_fingerprint,
    )


def _renewed_since(row: RingCentralToken, when: datetime | None) -> bool:
    renewals = [at for at in (row.last_refresh_at, row.last_login_at) if at is not None]
    return when is not None and any(at > when for at in renewals)
