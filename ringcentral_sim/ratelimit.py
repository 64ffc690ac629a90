"""Sliding-window rate limits per (user, app, group) with RingCentral's restarting penalty."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class RateDecision:
    allowed: bool
    group: str
    limit: int
    remaining: int
    window: int
    retry_after: int = 0

    def headers(self) -> dict[str, str]:
        headers = {
            "X-Rate-Limit-Group": self.group,
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(self.remaining),
            "X-Rate-Limit-Window": str(self.window),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


@dataclass
class _Bucket:
    hits: deque[float] = field(default_factory=deque)
    penalty_until: float = 0.0


class RateLimiter:
    """Not thread-safe on its own: the simulator calls it under its state lock."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def check(
        self, key: str, group: str, *, now: float, limit: int, window: float, penalty: float
    ) -> RateDecision:
        bucket = self._buckets.setdefault((key, group), _Bucket())
        while bucket.hits and bucket.hits[0] <= now - window:
            bucket.hits.popleft()
        throttled = now < bucket.penalty_until or len(bucket.hits) >= limit
        if throttled:
            # A request during the penalty restarts it: a fleet that keeps retrying stays
            # throttled forever (docs/ringcentral.md#rate-limits).
            bucket.penalty_until = now + penalty
            return RateDecision(False, group, limit, 0, int(window), retry_after=math.ceil(penalty))
        bucket.hits.append(now)
        return RateDecision(True, group, limit, limit - len(bucket.hits), int(window))
