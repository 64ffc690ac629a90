"""Worker heartbeats in Redis: which Celery workers are alive, so a dead one's tasks come back.

A worker killed outright (SIGKILL, a lost machine) takes the tasks it had reserved with it:
Redis hands them out again only after visibility_timeout (an hour). Every worker process beats
here every few seconds; the sweeper treats a worker silent for SMS_LEASE_SECONDS as dead and
queues the texts still waiting for a task again at once (a duplicate task is harmless: the
claim lets one through). A clean shutdown removes its beat: Celery gives its tasks back then.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid

import redis
from django.conf import settings

from smsapp.ratelimit import shared_redis as _redis

logger = logging.getLogger(__name__)
KEY = "smsapp:workers:heartbeats"
# Redis's clock, so every machine agrees on who is late.
_BEAT = """
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(t[1]) + tonumber(t[2]) / 1e6, ARGV[1])
return 1
"""
_SILENT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
"""
BEATS_PER_LEASE = 3


class Heartbeat:
    """Beats for one worker process (one start of it) from a background thread."""

    def __init__(self, node: str) -> None:
        self.name = f"{node}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._beat()
        self._thread = threading.Thread(target=self._run, name="sms-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        # If Redis is unreachable the beat lapses by itself; the sweeper then queues this
        # worker's texts again, which is harmless.
        with contextlib.suppress(redis.RedisError):
            _redis(settings.REDIS_URL).zrem(KEY, self.name)

    def _run(self) -> None:
        while not self._stop.wait(settings.SMS_LEASE_SECONDS / BEATS_PER_LEASE):
            self._beat()

    def _beat(self) -> None:
        try:
            client = _redis(settings.REDIS_URL)
            client.register_script(_BEAT)(keys=[KEY], args=[self.name])
        except redis.RedisError as error:  # the broker is down too: nothing runs meanwhile
            logger.warning("could not record the worker heartbeat: %s", error)


def claim_silent_workers() -> list[str]:
    """Workers silent for longer than SMS_LEASE_SECONDS, each returned to exactly one caller
    (removing the entry is the claim), so two sweepers do not both act on one death."""
    client = _redis(settings.REDIS_URL)
    silent = client.register_script(_SILENT)(keys=[KEY], args=[settings.SMS_LEASE_SECONDS])
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in silent]
    return [name for name in names if client.zrem(KEY, name)]
