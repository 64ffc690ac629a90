"""Injected faults: scripted ones a test queues, and random ones from the configured rates."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ringcentral_sim.config import SimConfig

# error: answer an error (default 503) without processing.
# delay: wait before processing. delay_after: process, then wait before answering (a client with
# a shorter timeout sees an ambiguous failure). drop: process, then close without answering.
# drop_before: close without answering or processing (looks the same to the client as drop).
KINDS = ("error", "delay", "delay_after", "drop", "drop_before")


@dataclass
class Fault:
    kind: str
    group: str | None = None
    status: int = 503
    seconds: float = 0.0
    # Retry-After of an "error" answer. A 429 gets 60 when this is None; 0 sends none at all
    # (real 429s sometimes lack it: clients must then wait at least 30 s).
    retry_after: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> tuple[Fault, int]:
        kind = data.get("kind")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        count = int(data.get("count", 1))
        if count < 1:
            raise ValueError("count must be at least 1")
        retry_after = data.get("retry_after")
        if retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0):
            raise ValueError("retry_after must be a whole number of seconds, 0 for none")
        fault = cls(
            kind=kind,
            group=data.get("group"),
            status=int(data.get("status", 503)),
            seconds=float(data.get("seconds", 0.0)),
            retry_after=retry_after,
        )
        return fault, count


class FaultPlan:
    """Not thread-safe on its own: the simulator calls it under its state lock."""

    def __init__(self, seed: int | None) -> None:
        self._queue: list[Fault] = []
        self._random = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        self._random = random.Random(seed)

    def add(self, fault: Fault, count: int) -> None:
        self._queue.extend([fault] * count)

    def clear(self) -> None:
        self._queue.clear()

    def pending(self) -> int:
        return len(self._queue)

    def take(self, config: SimConfig, group: str) -> Fault | None:
        for index, fault in enumerate(self._queue):
            if fault.group in (None, group):
                return self._queue.pop(index)
        if group not in config.fault_groups:
            return None
        roll = self._random.random()
        if roll < config.error_rate:
            return Fault("error")
        if roll < config.error_rate + config.drop_rate:
            return Fault("drop")
        return None
