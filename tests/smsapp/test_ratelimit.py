"""smsapp/ratelimit.py: the fleet limiter. Its windows are a Lua script run by Redis (on Redis's
clock, so every machine agrees), so they are tested against Redis db 15: RingCentral's own
window, ours, when a slot frees, the fleet-wide pause. What it does without asking Redis is
tested without one."""

from __future__ import annotations

import time

import pytest
import redis

from smsapp.ratelimit import FleetRateLimiter

NOTHING_LISTENS = "redis://127.0.0.1:1/15"


@pytest.fixture
def fresh(clean_redis):
    """Redis db 15, empty: no window, no pause, nothing learnt from RingCentral yet."""
    return clean_redis


@pytest.fixture
def no_redis(settings):
    """REDIS_URL where nothing listens: any command the limiter sent would fail."""
    settings.REDIS_URL = NOTHING_LISTENS


def _headers(limit: int, window: int, remaining: int) -> dict[str, str]:
    return {
        "X-Rate-Limit-Group": "Medium",
        "X-Rate-Limit-Limit": str(limit),
        "X-Rate-Limit-Remaining": str(remaining),
        "X-Rate-Limit-Window": str(window),
    }


def _take(limiter: FleetRateLimiter, count: int) -> list[float]:
    waits = []
    for _ in range(count):
        waits.append(limiter.acquire())
        limiter.settle()
    return waits


def test_ringcentrals_shorter_window_holds_a_burst_our_minute_would_allow(fresh):
    # 60 a minute is also RingCentral's rate, but RingCentral counts 10 per 10 s: a minute's
    # window of our own would send 60 at once and earn a 429.
    limiter = FleetRateLimiter("Medium", 60)
    limiter.observe(_headers(limit=10, window=10, remaining=9))
    waits = _take(limiter, 11)
    assert waits[:10] == [0.0] * 10
    assert 9.0 < waits[10] <= 10.0  # until the first of the ten leaves RingCentral's window


def test_auto_follows_ringcentral_up_as_well_as_down(fresh):
    limiter = FleetRateLimiter("Medium", 0)  # auto
    assert _take(limiter, 40) == [0.0] * 40
    assert limiter.acquire() > 0  # RingCentral's documented default until it says otherwise
    fresh.flushdb()
    limiter.observe(_headers(limit=100, window=60, remaining=99))
    assert _take(limiter, 100) == [0.0] * 100  # the account allows more: use it
    assert limiter.acquire() > 0


def test_a_number_caps_below_what_ringcentral_allows(fresh):
    limiter = FleetRateLimiter("Medium", 5)
    limiter.observe(_headers(limit=40, window=60, remaining=39))
    assert _take(limiter, 5) == [0.0] * 5
    assert 59.0 < limiter.acquire() <= 60.0


def test_the_wait_is_until_exactly_enough_sends_have_left(fresh):
    limiter = FleetRateLimiter("Medium", 0)
    limiter.observe(_headers(limit=3, window=10, remaining=2))
    _take(limiter, 1)
    time.sleep(0.3)
    _take(limiter, 2)
    # The first send leaves the window 0.3 s before the other two: that is the wait.
    assert 9.4 < limiter.acquire() <= 9.75


def test_a_slot_is_dated_from_the_answer_not_the_request(fresh):
    limiter = FleetRateLimiter("Medium", 0)
    assert limiter.acquire() == 0.0
    [(_, taken_at)] = fresh.zrange("smsapp:ratelimit:Medium:window", 0, -1, withscores=True)
    time.sleep(0.2)  # the request travels; RingCentral counts it on arrival
    limiter.settle()
    [(_, settled_at)] = fresh.zrange("smsapp:ratelimit:Medium:window", 0, -1, withscores=True)
    assert settled_at - taken_at >= 0.2


def test_remaining_zero_pauses_only_when_someone_else_spent_the_budget(fresh):
    limiter = FleetRateLimiter("Medium", 0)
    _take(limiter, 3)
    limiter.observe(_headers(limit=3, window=10, remaining=0))  # our own third send: no pause
    assert fresh.get("smsapp:ratelimit:Medium:paused-until") is None
    fresh.delete("smsapp:ratelimit:Medium:window")
    limiter.observe(_headers(limit=3, window=10, remaining=0))  # not ours: hold back
    assert fresh.get("smsapp:ratelimit:Medium:paused-until") is not None


def test_a_pause_never_shortens_a_longer_one_and_holds_back_every_send(fresh):
    limiter = FleetRateLimiter("Medium", 40)
    assert limiter.pause(120) == pytest.approx(120)
    # Far more than 10 s, however slow this machine: the longer pause is still in force.
    assert 60 < limiter.pause(10) <= 120
    assert 60 < FleetRateLimiter("Medium", 40).acquire() <= 120  # another worker waits too


def test_each_group_is_paced_and_paused_on_its_own(fresh):
    FleetRateLimiter("Medium", 40).pause(60)
    assert FleetRateLimiter("Light", 0).acquire() == 0.0  # status reads go on meanwhile


def test_a_429s_own_headers_leave_the_pause_to_its_retry_after(fresh):
    # Remaining is 0 on a 429 as well; the caller pauses for Retry-After, not for a window.
    limiter = FleetRateLimiter("Medium", 0)
    limiter.observe(_headers(limit=3, window=10, remaining=0), throttled=True)
    assert fresh.get("smsapp:ratelimit:Medium:paused-until") is None


def test_reset_forgets_the_window_the_pause_and_ringcentrals_limits(fresh):
    limiter = FleetRateLimiter("Medium", 2)
    limiter.observe(_headers(limit=2, window=60, remaining=1))
    _take(limiter, 2)
    limiter.pause(60)
    limiter.reset()
    assert fresh.keys("smsapp:ratelimit:Medium:*") == []
    assert limiter.acquire() == 0.0


# -- without Redis: what the limiter does without asking it ------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},  # an answer without X-Rate-Limit-* (an error page from a proxy)
        {"X-Rate-Limit-Limit": "40"},  # Remaining missing
        {"X-Rate-Limit-Limit": "forty", "X-Rate-Limit-Remaining": "3"},
        {"X-Rate-Limit-Limit": "40", "X-Rate-Limit-Remaining": "3", "X-Rate-Limit-Window": "1m"},
    ],
)
def test_headers_it_cannot_read_are_ignored_without_a_call_to_redis(no_redis, headers):
    FleetRateLimiter("Medium", 0).observe(headers)  # a call would raise ConnectionError


def test_settling_without_a_slot_asks_redis_nothing(no_redis):
    FleetRateLimiter("Medium", 0).settle()  # no acquire, or one that had to wait


def test_without_redis_the_limiter_raises_rather_than_letting_a_send_through(no_redis):
    # The sending service turns this into "rate limiter unavailable" and sends nothing
    # (tests/smsapp/services/test_sending.py): never an unpaced send.
    with pytest.raises(redis.ConnectionError):
        FleetRateLimiter("Medium", 0).acquire()
