"""Every token state change: get (refresh or log in under a row lock), invalidate, revoke."""

from __future__ import annotations

import enum
import logging
import random
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import NamedTuple

from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from auth_tokens import client
from auth_tokens.credentials import Credentials
from auth_tokens.crypto import decrypt, encrypt, fingerprint
from auth_tokens.errors import (
    AuthThrottled,
    AuthUnavailable,
    CredentialsBlocked,
    CredentialsRejected,
    InvalidGrant,
    RingCentralAuthError,
    TokenLockTimeout,
)
from auth_tokens.models import RingCentralToken, TokenEvent
from auth_tokens.timing import lock_timeout_seconds

logger = logging.getLogger(__name__)

# After waiting out the lock bound, look again soon: a holder that outlived the bound is gone
# by then (PostgreSQL ends its session at the same bound: _lock_row), and the row lock keeps
# any number of prompt retriers to one renewal, so retrying early costs RingCentral nothing.
LOCK_RETRY_SECONDS = 2.0


class Renewal(enum.Enum):
    """When _renew() asks RingCentral for a new token. Decided under the row lock, after
    re-reading the row: another process may have renewed while this one waited."""

    # A caller needs a token: only when the stored one is missing or within the skew of expiry.
    WHEN_NEEDED = "when_needed"
    # Keep-alive: only once less than half the lifetime is left, or the refresh token is close
    # to expiry (_renewal_due), so a sender rarely has to wait for a renewal.
    BEFORE_EXPIRY = "before_expiry"
    # A person asked: refresh even if the token is valid (log in without a usable refresh token).
    REFRESH_NOW = "refresh_now"
    # A person asked: log in with the configured grant, then end the replaced session.
    LOG_IN_NOW = "log_in_now"


# Skew: refresh this long before expiry. It scales with the lifetime (a tenth, at most 60 s):
# RingCentral allows 600 s access tokens and tests use seconds; a fixed 60 s would mean
# "always expired" and a refresh on every call.
MAX_SKEW_SECONDS = 60.0
# What the hot path reads: one indexed row, and of it only what tells whether the stored access
# token is usable. Each further column cost about 4 us a call, 2% of the hot path; why a token
# is not usable (a throttle, a block) is read only when it is not.
_HOT_COLUMNS = ("version", "access_token_encrypted", "access_expires_at", "access_token_ttl")
# What _raise_if_paused() reads, off the hot path.
_PAUSE_FIELDS = (
    "throttled_until",
    "blocked",
    "blocked_fingerprint",
    "last_error_code",
    "last_error_hint",
)
# Keep-alive renews when less than this share of the access lifetime is left, or when the
# refresh token is this close to expiry. Beat runs it every 5 minutes (CELERY_BEAT_SCHEDULE).
KEEP_ALIVE_ACCESS_SHARE = 0.5
KEEP_ALIVE_REFRESH_MARGIN = timedelta(days=1)
# Per process, per credential key: the AccessToken built from the row version last seen, so the
# hot path decrypts once per token rather than once per call. Only a cache of the row: each
# call still reads the row, and uses this only while version and expiry match it.
_plaintext_cache: dict[str, AccessToken] = {}
# How a login with each grant (Credentials.grant) is recorded in obtained_by.
_OBTAINED_BY_LOGIN = {
    "password": RingCentralToken.Obtained.PASSWORD,
    "jwt": RingCentralToken.Obtained.JWT,
}


class HotTokenColumns(NamedTuple):
    """The columns of a token row that the hot path reads, named as RingCentralToken's fields.
    A NamedTuple: built on every call, and cheaper than a dataclass."""

    version: int
    access_token_encrypted: str
    access_expires_at: datetime | None
    access_token_ttl: int


# A whole token row or its hot-path columns: what access_valid() and _usable_token() need.
TokenRowLike = RingCentralToken | HotTokenColumns


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    version: int
    expires_at: datetime

    def __str__(self) -> str:
        return f"access token {fingerprint(self.value)} v{self.version}"


def skew(ttl_seconds: int) -> timedelta:
    return timedelta(seconds=min(MAX_SKEW_SECONDS, ttl_seconds / 10))


def get_access_token(*, credentials: Credentials | None = None) -> AccessToken:
    """A valid access token, refreshing or logging in (once, fleet-wide) when needed.

    Raises AuthThrottled (wait `retry_after`), CredentialsRejected/CredentialsBlocked (a person
    must act), AuthUnavailable (retry later) or TokenConfigurationError.
    """
    creds = credentials or Credentials.from_settings()
    creds.require_complete()
    hot = _read_hot_columns(creds.key)
    now = timezone.now()
    if hot is not None:
        token = _usable_token(hot, creds, now)
        if token is not None:
            return token
        # Not the hot path any more: see whether a throttle or a block stands before taking
        # the row lock, so that paused callers fail fast instead of queueing on the lock.
        paused = RingCentralToken.objects.only(*_PAUSE_FIELDS).filter(credential_key=creds.key)
        row = paused.first()
        if row is not None:
            _raise_if_paused(row, creds, now)
    return _renew(creds, renewal=Renewal.WHEN_NEEDED)


def refresh_now(*, credentials: Credentials | None = None, login: bool = False) -> AccessToken:
    """Refresh (or with login=True, log in again) even if the current token is still valid."""
    creds = credentials or Credentials.from_settings()
    creds.require_complete()
    return _renew(creds, renewal=Renewal.LOG_IN_NOW if login else Renewal.REFRESH_NOW)


def log_in_again(*, credentials: Credentials | None = None) -> AccessToken:
    """A person's explicit retry (admin button, `token_refresh --login`): it is what a block
    waits for, so lift the block, then log in even if the current token is still valid."""
    creds = credentials or Credentials.from_settings()
    clear_block(credentials=creds)
    return refresh_now(credentials=creds, login=True)


def keep_alive(*, credentials: Credentials | None = None) -> str:
    """Renew ahead of expiry so senders rarely wait and an idle refresh token never lapses.
    Returns what it did, in words, for the worker log."""
    creds = credentials or Credentials.from_settings()
    if creds.missing_settings():
        return "skipped: RingCentral is not configured"
    row = RingCentralToken.objects.filter(credential_key=creds.key).first()
    now = timezone.now()
    if row is not None and not _renewal_due(row, now):
        return "fresh: nothing to do"
    try:
        token = _renew(creds, renewal=Renewal.BEFORE_EXPIRY)
    except RingCentralAuthError as error:
        return f"not renewed: {error.message}"
    return f"renewed: {token}"


def invalidate_access_token(token: AccessToken, *, credentials: Credentials | None = None) -> bool:
    """After a 401: discard that token only. Compare-and-set on its version, so when N workers
    see the same 401, one invalidation happens and the next get_access_token() renews once."""
    creds = credentials or Credentials.from_settings()
    changed = RingCentralToken.objects.filter(
        credential_key=creds.key, version=token.version
    ).update(access_token_encrypted="", access_expires_at=None, version=F("version") + 1)
    return changed == 1


@sensitive_variables("spent")
def revoke_tokens(*, credentials: Credentials | None = None) -> bool:
    """Forget the stored pair and end its RingCentral session. The next use logs in again."""
    creds = credentials or Credentials.from_settings()
    with transaction.atomic():
        row = RingCentralToken.objects.select_for_update().filter(credential_key=creds.key).first()
        if row is None:
            return False
        spent = decrypt(row.access_token_encrypted) or decrypt(row.refresh_token_encrypted)
        _clear_pair(row)
        row.version += 1
        row.save()
        _record_event(row, TokenEvent.Kind.REVOKED, timezone.now())
    if spent:
        client.revoke(creds, spent)  # after commit: no network call inside this transaction
    return True


def clear_block(*, credentials: Credentials | None = None) -> bool:
    """An admin's "try again" after rejected credentials. A throttle is not lifted: it is
    RingCentral's Retry-After, and calling before it ends restarts the penalty."""
    creds = credentials or Credentials.from_settings()
    rows = RingCentralToken.objects.filter(credential_key=creds.key)
    with transaction.atomic():
        # Conditional: of two admins clearing at once, one records the event.
        lifted = rows.filter(blocked=True).update(blocked=False, blocked_fingerprint="")
        if lifted:
            _record_event(rows.get(), TokenEvent.Kind.BLOCK_CLEARED, timezone.now())
            return True
        return rows.update(blocked=False, blocked_fingerprint="") == 1


# -- internals ------------------------------------------------------------------------------


@cache
def _hot_sql() -> str:
    quote = connection.ops.quote_name
    version, access, expires, ttl = (quote(name) for name in _HOT_COLUMNS)
    table = quote(RingCentralToken._meta.db_table)
    # The expiry as text, parsed in _expiry(): psycopg's timestamptz loader, as Django registers
    # it, runs in Python and is set up again for every cursor, which cost about 20 us a call.
    # CAST AS TEXT is the same SQL on SQLite. Identifiers come from the model and are quoted;
    # the key is a bound parameter.
    return (
        f"SELECT {version}, {access}, CAST({expires} AS TEXT), {ttl} "  # noqa: S608
        f"FROM {table} WHERE {quote('credential_key')} = %s"
    )


def _read_hot_columns(key: str) -> HotTokenColumns | None:
    # Raw SQL, because this is the one query every send makes: the ORM's query building cost
    # about 350 us a call, three times the PostgreSQL round trip itself (bench/token_bench.py).
    with connection.cursor() as cursor:
        cursor.execute(_hot_sql(), [key])
        values = cursor.fetchone()
    if values is None:
        return None
    version, access, expires, ttl = values
    return HotTokenColumns(version, access, _expiry(expires), ttl)


def _expiry(text: str | None) -> datetime | None:
    """access_expires_at read as text: PostgreSQL's ISO form with its offset ("...+00"), or
    SQLite's naive UTC. Any other form (a DateStyle other than ISO) raises ValueError rather
    than reading as "no token"; psycopg's own loader refuses those DateStyles too."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def access_valid(row: TokenRowLike, now: datetime) -> bool:
    """The stored access token is there and good for longer than the skew margin."""
    expires = row.access_expires_at
    return bool(
        row.access_token_encrypted and expires and expires - skew(row.access_token_ttl) > now
    )


def blocked_for(row: RingCentralToken, creds: Credentials) -> bool:
    """Blocked, and for these very credentials: changed settings lift a block by themselves."""
    return row.blocked and row.blocked_fingerprint == creds.fingerprint


@sensitive_variables("cached", "value", "token")
def _usable_token(row: TokenRowLike, creds: Credentials, now: datetime) -> AccessToken | None:
    if not access_valid(row, now):
        return None
    expires = row.access_expires_at
    cached = _plaintext_cache.get(creds.key)
    if cached is not None and cached.version == row.version and cached.expires_at == expires:
        return cached
    value = decrypt(row.access_token_encrypted)
    if value is None:  # encrypted under another key: treat as absent and renew
        return None
    token = AccessToken(value, row.version, expires)
    _plaintext_cache[creds.key] = token
    return token


def _renewal_due(row: RingCentralToken, now: datetime) -> bool:
    if not row.access_token_encrypted or row.access_expires_at is None:
        return True
    left = row.access_expires_at - now
    if left < timedelta(seconds=row.access_token_ttl * KEEP_ALIVE_ACCESS_SHARE):
        return True
    return bool(row.refresh_expires_at and row.refresh_expires_at - now < KEEP_ALIVE_REFRESH_MARGIN)


def _raise_if_paused(row: RingCentralToken, creds: Credentials, now: datetime) -> None:
    if blocked_for(row, creds):
        raise CredentialsBlocked(
            f"Automatic RingCentral logins are paused after "
            f"{row.last_error_code or 'a rejection'}: change the credentials or clear the block "
            "in the admin.",
            code=row.last_error_code,
            hint=row.last_error_hint,
        )
    if row.throttled_until and row.throttled_until > now:
        wait = (row.throttled_until - now).total_seconds()
        raise AuthThrottled(
            f"RingCentral token requests are paused for {wait:.0f} s after a rate limit "
            f"({row.last_error_code or '429'})",
            retry_after=wait,
            until=row.throttled_until,
            code=row.last_error_code,
        )


def _lock_row(creds: Credentials) -> RingCentralToken:
    if connection.vendor != "postgresql":
        return _lock_row_queued(creds)  # SQLite: the IMMEDIATE transaction is the lock
    bound = lock_timeout_seconds()
    with connection.cursor() as cursor:
        # For this transaction only (SET LOCAL; safe behind a transaction pooler). A holder cut
        # off from the database mid-renewal (a partition, a frozen VM) would otherwise keep the
        # row locked until the server's TCP keepalive notices, two hours by default:
        # PostgreSQL ends its session once it has been idle in this transaction longer than a
        # live holder can be (two token calls, which the bound covers). lock_timeout bounds
        # the first-ever row's insert, which can wait on a concurrent one.
        cursor.execute(
            "SELECT set_config('idle_in_transaction_session_timeout', %s, true),"
            " set_config('lock_timeout', %s, true)",
            [f"{int(bound * 1000)}ms"] * 2,
        )
    # Waiters poll with NOWAIT rather than queue in PostgreSQL: a queued waiter cut off from
    # the database could be handed the lock when the holder's session ends, and hold it for
    # another bound without ever seeing it (lock_timeout would not stop that: it applies to
    # each lock a statement waits for, and a row lock is two, the tuple then its holder's
    # transaction). A poll every 50 to 100 ms costs nothing next to a token call.
    deadline = time.monotonic() + bound
    while True:
        try:
            with transaction.atomic():  # a savepoint: a refused poll leaves ours usable
                return _lock_row_queued(creds, nowait=True)
        except OperationalError as exc:
            if not _is_lock_timeout(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.05 + 0.05 * random.random())


def _lock_row_queued(creds: Credentials, *, nowait: bool = False) -> RingCentralToken:
    locked = RingCentralToken.objects.select_for_update(nowait=nowait)
    row = locked.filter(credential_key=creds.key).first()
    if row is None:
        # ON CONFLICT DO NOTHING: two first-ever callers create one row, then both lock it.
        RingCentralToken.objects.bulk_create(
            [
                RingCentralToken(
                    credential_key=creds.key,
                    server_url=creds.server_url,
                    client_id=creds.client_id,
                    username=creds.username,
                    extension=creds.extension,
                    login_grant=creds.grant,
                )
            ],
            ignore_conflicts=True,
        )
        row = locked.get(credential_key=creds.key)
    return row


@sensitive_variables("old_session_token", "new", "token")
def _renew(creds: Credentials, *, renewal: Renewal) -> AccessToken:
    failure: RingCentralAuthError | None = None
    old_session_token: str | None = None
    try:
        with transaction.atomic():
            row = _lock_row(creds)
            now = timezone.now()
            # Whoever held the lock before us may have renewed already: use theirs.
            if renewal is Renewal.WHEN_NEEDED or (
                renewal is Renewal.BEFORE_EXPIRY and not _renewal_due(row, now)
            ):
                token = _usable_token(row, creds, now)
                if token is not None:
                    return token
            # Every renewal honours a throttle (a request during the penalty restarts it) and a
            # block (only new credentials or an admin's clear_block() lift it).
            _raise_if_paused(row, creds, now)
            if renewal is Renewal.LOG_IN_NOW:
                old_session_token = decrypt(row.access_token_encrypted)
            try:
                new = _obtain(row, creds, renewal, now)
            except RingCentralAuthError as error:
                _record_failure(row, creds, error, now)
                failure = error
            else:
                token = _record_success(row, creds, new, now)
    except OperationalError as exc:
        if not _is_lock_timeout(exc):
            raise
        raise TokenLockTimeout(
            "Timed out waiting for another process to renew the RingCentral token",
            retry_after=LOCK_RETRY_SECONDS,
        ) from exc
    if failure is not None:
        raise failure
    if old_session_token:
        client.revoke(creds, old_session_token)  # frees a session slot; after commit
    return token


def _is_lock_timeout(error: OperationalError) -> bool:
    """PostgreSQL's NOWAIT refusal or lock_timeout (both SQLSTATE 55P03) or SQLite's busy
    timeout while another process renews: bounded and transient. Anything else (the database
    is down) is not."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == "55P03":
        return True
    return getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY


class _NewTokens(NamedTuple):
    """A token endpoint's answer, and how it was obtained (what obtained_by records)."""

    answer: client.TokenAnswer
    obtained_by: RingCentralToken.Obtained


@sensitive_variables("refresh_token")
def _obtain(
    row: RingCentralToken, creds: Credentials, renewal: Renewal, now: datetime
) -> _NewTokens:
    refresh_token = decrypt(row.refresh_token_encrypted)
    # A refresh token past its expiry is not worth a request: it gets OAU-210 and costs one of
    # the five Auth requests a minute. Log in directly.
    usable = refresh_token and row.refresh_expires_at and row.refresh_expires_at > now
    if renewal is not Renewal.LOG_IN_NOW and usable:
        try:
            return _NewTokens(
                client.refresh(creds, refresh_token), RingCentralToken.Obtained.REFRESH
            )
        except InvalidGrant as refused:
            logger.info("RingCentral refused the refresh token (%s); logging in", refused.code)
            row.refresh_token_encrypted, row.refresh_expires_at = "", None
            _record_event(row, TokenEvent.Kind.REFRESH_REFUSED, now, refused.code)
    return _NewTokens(client.login(creds), _OBTAINED_BY_LOGIN[creds.grant])


@sensitive_variables("new", "answer", "token")
def _record_success(
    row: RingCentralToken, creds: Credentials, new: _NewTokens, now: datetime
) -> AccessToken:
    answer = new.answer
    # Expiry from the answer's expires_in, counted from before the request left: never from
    # constants (docs/ringcentral.md#token-endpoint).
    row.access_token_encrypted = encrypt(answer.access_token)
    row.access_token_ttl = answer.expires_in
    row.access_expires_at = now + timedelta(seconds=answer.expires_in)
    if answer.refresh_token:
        row.refresh_token_encrypted = encrypt(answer.refresh_token)
        row.refresh_expires_at = now + timedelta(seconds=answer.refresh_token_expires_in or 0)
    else:  # legal: the app may not have "Issue refresh tokens" on
        row.refresh_token_encrypted, row.refresh_expires_at = "", None
    row.obtained_by = new.obtained_by
    if new.obtained_by is RingCentralToken.Obtained.REFRESH:
        row.last_refresh_at, row.refresh_count = now, row.refresh_count + 1
    else:
        row.last_login_at, row.login_count = now, row.login_count + 1
    row.owner_id = answer.owner_id or row.owner_id
    row.login_grant = creds.grant
    row.throttled_until = None
    row.blocked, row.blocked_fingerprint = False, ""
    row.version += 1
    row.save()
    renewed = new.obtained_by is RingCentralToken.Obtained.REFRESH
    _record_event(row, TokenEvent.Kind.REFRESHED if renewed else TokenEvent.Kind.LOGGED_IN, now)
    token = AccessToken(answer.access_token, row.version, row.access_expires_at)
    _plaintext_cache[creds.key] = token
    logger.info(
        "RingCentral token renewed by %s (v%s, expires in %s s)",
        new.obtained_by,
        row.version,
        answer.expires_in,
    )
    return token


def _record_failure(
    row: RingCentralToken, creds: Credentials, error: RingCentralAuthError, now: datetime
) -> None:
    row.last_error_code = error.code
    row.last_error_message = error.message
    row.last_error_hint = error.hint
    row.last_error_at = now
    wait = getattr(error, "retry_after", None)
    if isinstance(error, AuthThrottled | AuthUnavailable) and wait:
        row.throttled_until = now + timedelta(seconds=wait)
        if isinstance(error, AuthThrottled):
            error.until = row.throttled_until
    if isinstance(error, CredentialsRejected):
        # The stored pair stays: if it still works (a forced login with a mistyped password),
        # texts keep going out until it expires, while the block tells an admin to act.
        row.blocked, row.blocked_fingerprint = True, creds.fingerprint
    row.save()
    _record_event(row, _failure_kind(error), now, error.code)
    logger.warning("RingCentral token renewal failed: %s", error.message)


def _failure_kind(error: RingCentralAuthError) -> TokenEvent.Kind:
    if isinstance(error, CredentialsRejected):
        return TokenEvent.Kind.BLOCKED
    if isinstance(error, AuthThrottled):
        return TokenEvent.Kind.THROTTLED
    return TokenEvent.Kind.LOGIN_FAILED


def _record_event(
    row: RingCentralToken, kind: TokenEvent.Kind, at: datetime, code: str = ""
) -> None:
    """The row's history (TokenEvent), written in the caller's transaction with the row change
    it describes: a kind, a code and a time, never a token or an error message."""
    TokenEvent.objects.create(token=row, kind=kind, error_code=(code or "")[:40], at=at)


def _clear_pair(row: RingCentralToken) -> None:
    row.access_token_encrypted, row.access_expires_at = "", None
    row.refresh_token_encrypted, row.refresh_expires_at = "", None
