"""A fleet-wide rate limiter in Redis: one sliding window and one pause for every worker."""

from __future__ import annotations

import uuid
from functools import cache

import redis
from django.conf import settings

# Sliding window of the last `window` seconds, on Redis's clock so every machine agrees.
# KEYS: window zset, pause key, server-limit key, server-window key.
# ARGV: limit, window (s), member. RingCentral's own limit and window, when its headers said
# they are stricter than ours, take over.
# Returns 0 when a slot was taken, else the seconds to wait (a string, for precision).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return tostring(paused - now) end
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[1])
local server_limit = tonumber(redis.call('GET', KEYS[3]) or '0')
local server_window = tonumber(redis.call('GET', KEYS[4]) or '0')
if server_limit > 0 and server_window > 0 and server_limit / server_window < limit / window then
  limit = server_limit
  window = server_window
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""

# Pause everyone until now + ARGV[1] seconds, unless already paused for longer.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local untl = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > current then
  redis.call('SET', KEYS[1], tostring(untl), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return tostring(math.max(untl, current) - now)
"""


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


class FleetRateLimiter:
    """Celery's rate_limit is per worker; this one is shared by every worker on every machine.

    RingCentral throttles per user and app, and every request during a penalty restarts it
    (ringcentral-api.md, Rate limits): so the fleet paces itself below the limit, and when a 429
    does come, the whole fleet pauses for Retry-After instead of each worker finding out alone.
    """

    def __init__(self, group: str, limit: int, window: float = 60.0) -> None:
        self.group = group
        self.limit = limit
        self.window = window
        prefix = f"smsapp:ratelimit:{group}"
        self._keys = (
            f"{prefix}:window",
            f"{prefix}:paused-until",
            f"{prefix}:server-limit",
            f"{prefix}:server-window",
        )
        client = _redis(settings.REDIS_URL)
        self._redis = client
        self._acquire = client.register_script(_ACQUIRE)
        self._pause = client.register_script(_PAUSE)

    def acquire(self) -> float:
        """Take a slot: 0.0, or the seconds to wait before asking again (nothing was taken)."""
        wait = self._acquire(keys=self._keys, args=[self.limit, self.window, uuid.uuid4().hex])
        return float(wait)

    def pause(self, seconds: float) -> float:
        """Stop the whole fleet for `seconds` (never shortens a longer pause); returns the
        pause now in force."""
        return float(self._pause(keys=[self._keys[1]], args=[seconds]))

    def observe(self, headers: dict[str, str], *, throttled: bool = False) -> None:
        """Follow RingCentral's own view: a lower X-Rate-Limit-Limit becomes ours, and
        Remaining 0 pauses the fleet for the window rather than risk a 429 and its penalty.

        On a 429 (`throttled`) the headers say Remaining 0 too, but Retry-After is the wait
        that counts: the caller pauses for that, not for a whole window."""
        try:
            limit = int(headers["X-Rate-Limit-Limit"])
            remaining = int(headers["X-Rate-Limit-Remaining"])
            window = float(headers.get("X-Rate-Limit-Window", self.window))
        except (KeyError, ValueError):
            return
        # Remembered for a few windows: the headers come back with every answer anyway.
        remember = max(60, int(window) * 3)
        self._redis.set(self._keys[2], limit, ex=remember)
        self._redis.set(self._keys[3], window, ex=remember)
        if remaining <= 0 and not throttled:
            self.pause(window)

    def reset(self) -> None:
        self._redis.delete(*self._keys)
