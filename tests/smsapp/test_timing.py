"""smsapp/timing.py (and auth_tokens/timing.py): how long things may take, derived from one
worst-attempt function that follows the HTTP timeout."""

from __future__ import annotations

from auth_tokens.timing import lock_timeout_seconds, worst_request_seconds
from smsapp.timing import stale_sending_seconds, worst_attempt_seconds


def test_the_worst_attempt_covers_two_token_renewals_and_two_calls(settings):
    settings.RINGCENTRAL_HTTP_TIMEOUT = 15.0
    call = 2 * 15.0  # connect and read, each up to the timeout
    assert lock_timeout_seconds() > 2 * call  # the lock holder's refresh and login
    assert worst_request_seconds() == 2 * (lock_timeout_seconds() + 3 * call + call)
    assert worst_attempt_seconds() == worst_request_seconds()
    # The default backstop follows the timeout instead of a fixed age.
    settings.SMS_STALE_SENDING_SECONDS = None
    assert stale_sending_seconds() > worst_attempt_seconds()
    at_15 = worst_attempt_seconds()
    settings.RINGCENTRAL_HTTP_TIMEOUT = 30.0
    assert stale_sending_seconds() > worst_attempt_seconds() > 1.9 * at_15
