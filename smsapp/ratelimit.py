"""A fleet-wide rate limiter in Redis: one sliding window and one pause for every worker."""

from __future__ import annotations

import uuid
from functools import cache

import redis
from django.conf import settings

from metrics import definitions as metrics

# Two sliding windows over one log of sends, on Redis's clock so every machine agrees: ours
# (ARGV limit per ARGV window, from the setting) and RingCentral's own (the limit and window its
# X-Rate-Limit-* headers report, remembered in KEYS[3]/KEYS[4]). A send needs room in both: a
# per-minute window of our own would burst inside RingCentral's shorter one and earn a 429 whose
# penalty stops the fleet. limit <= 0 means "auto": RingCentral's numbers once known, until then
# its documented default of 40 a minute.
# KEYS: log zset, pause key, server-limit key, server-window key.
# ARGV: limit, window (s), member.
# Returns 0 when a slot was taken, else the seconds to wait (a string, for precision): exactly
# until the send that must leave a window does.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return tostring(paused - now) end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local server_limit = tonumber(redis.call('GET', KEYS[3]) or '0')
local server_window = tonumber(redis.call('GET', KEYS[4]) or '0')
local known = server_limit > 0 and server_window > 0
if limit <= 0 then
  if known then limit = 0 else limit = 40; window = 60 end
end
local longest = window
if known and server_window > longest then longest = server_window end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
local function wait_for(lim, win)
  local since = '(' .. tostring(now - win)
  local n = redis.call('ZCOUNT', KEYS[1], since, '+inf')
  if n < lim then return 0 end
  local leaving = redis.call(
    'ZRANGEBYSCORE', KEYS[1], since, '+inf', 'WITHSCORES', 'LIMIT', n - lim, 1)
  return tonumber(leaving[2]) + win - now
end
local wait = 0
if limit > 0 then wait = wait_for(limit, window) end
if known then wait = math.max(wait, wait_for(server_limit, server_window)) end
if wait > 0 then return tostring(wait) end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(longest) + 1)
return '0'
"""

# When the answer came back: RingCentral counted the request on arrival, somewhere between
# our acquire and now, so dating the slot from now is the safe end (it frees a little later
# than RingCentral's does, never earlier).
_SETTLE = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) + tonumber(t[2]) / 1e6, ARGV[1])
end
return 1
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
def shared_redis(url: str, timeout: float = 5.0) -> redis.Redis:
    """One client (and connection pool) per URL and process, for the limiter, the heartbeats
    and the health checks."""
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


class FleetRateLimiter:
    """Celery's rate_limit is per worker; this one is shared by every worker on every machine.

    RingCentral throttles per user and app, and every request during a penalty restarts it
    (docs/ringcentral.md#rate-limits): so the fleet paces itself below the limit, and when a 429
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
        client = shared_redis(settings.REDIS_URL)
        self._redis = client
        self._acquire = client.register_script(_ACQUIRE)
        self._settle = client.register_script(_SETTLE)
        self._pause = client.register_script(_PAUSE)
        self._slot: str | None = None

    def acquire(self) -> float:
        """Take a slot: 0.0, or the seconds to wait before asking again (nothing was taken)."""
        slot = uuid.uuid4().hex
        wait = float(self._acquire(keys=self._keys, args=[self.limit, self.window, slot]))
        self._slot = slot if wait == 0 else None
        return wait

    def settle(self) -> None:
        """The request that used the slot is over: date the slot from now (see _SETTLE)."""
        if self._slot is not None:
            self._settle(keys=self._keys[:1], args=[self._slot])
            self._slot = None

    def pause(self, seconds: float, *, cause: str = "429") -> float:
        """Stop the whole fleet for `seconds` (never shortens a longer pause); returns the
        pause now in force. `cause` is for the metrics: "429" or "budget_spent"."""
        paused = float(self._pause(keys=[self._keys[1]], args=[seconds]))
        metrics.pause_started(self.group, seconds, cause)
        return paused

    def pause_left(self) -> float:
        """Seconds left of the fleet's pause for this group, on Redis's clock (0: none)."""
        until, now = self._redis.get(self._keys[1]), self._redis.time()
        return max(0.0, float(until) - (now[0] + now[1] / 1e6)) if until else 0.0

    def per_minute(self, default: int = 40) -> float:
        """The pace the fleet keeps now, in requests a minute: the stricter of our own limit and
        what RingCentral's headers last said; `default` before any answer with "auto" (0).
        For estimates shown to people (a bulk send's duration, how much to queue ahead)."""
        rates = [self.limit * 60.0 / self.window] if self.limit else []
        try:
            server_limit, server_window = self._redis.mget(self._keys[2], self._keys[3])
        except redis.RedisError:
            server_limit = server_window = None
        if server_limit and server_window and float(server_window) > 0:
            rates.append(int(server_limit) * 60.0 / float(server_window))
        return min(rates) if rates else float(default)

    def observe(self, headers: dict[str, str], *, throttled: bool = False) -> None:
        """Follow RingCentral's own view: a lower X-Rate-Limit-Limit becomes ours, and
        RingCentral's window becomes a second window every acquire must fit (with "auto",
        the only one). Remaining 0 while our own log still sees room means someone else spent
        the budget: then the fleet pauses for the window rather than risk a 429.

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
        if remaining <= 0 and not throttled and self._sends_in(window) < limit:
            self.pause(window, cause="budget_spent")

    def _sends_in(self, window: float) -> int:
        now = self._redis.time()
        since = now[0] + now[1] / 1e6 - window
        return int(self._redis.zcount(self._keys[0], f"({since}", "+inf"))

    def reset(self) -> None:
        self._redis.delete(*self._keys)
