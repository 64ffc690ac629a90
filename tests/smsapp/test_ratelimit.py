"""The fleet limiter's window logic, against Redis: RingCentral's own window, ours, and when a
slot frees."""

from __future__ import annotations

import time

import pytest
import redis

from smsapp.ratelimit import FleetRateLimiter


@pytest.fixture
def fresh(settings):
    settings.REDIS_URL = settings.CELERY_BROKER_URL
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


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
