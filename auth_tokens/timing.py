"""How long token work and one authorized REST call can take at worst, from the HTTP timeout.

Other timings (the token row's lock timeout, the age after which a send counts as abandoned)
are derived from these, so that changing RINGCENTRAL_HTTP_TIMEOUT keeps them consistent.
"""

from __future__ import annotations

from django.conf import settings


def http_call_seconds() -> float:
    """One HTTP call: requests applies the timeout to connecting and to reading, separately."""
    return 2 * settings.RINGCENTRAL_HTTP_TIMEOUT


def lock_timeout_seconds() -> float:
    """How long a process waits for the token row's lock. The holder makes at most two token
    calls (a refresh, then a login when the refresh is refused); waiters give up a little
    after that and raise TokenLockTimeout instead of piling up. Also how long the holder's
    transaction may sit idle before PostgreSQL ends it (services._lock_row): no live holder is
    idle that long, so a holder that is (cut off, frozen) loses the lock when waiters give up."""
    return 2 * http_call_seconds() + 5


def worst_token_seconds() -> float:
    """get_access_token() at worst: wait out the lock, then hold it for a refresh and a login,
    then revoke the replaced session (after commit, still on the caller's time)."""
    return lock_timeout_seconds() + 3 * http_call_seconds()


def worst_request_seconds() -> float:
    """auth_tokens.api.ringcentral_request() at worst: a token and the call, then, after a 401,
    a fresh token and the call once more."""
    return 2 * (worst_token_seconds() + http_call_seconds())
