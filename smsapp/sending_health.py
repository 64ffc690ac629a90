"""Sending health in one place, computed from what is happening, for /healthz, the staff
banner, the history page and the admin.

Facts, each cheap to read: the configuration, the token row (login problems), the fleet's
rate-limit pause (Redis), the last RingCentral reachability probe (Redis, written by a beat
task every SMS_PROBE_INTERVAL), the oldest text still waiting (one indexed query), the workers'
heartbeats and the dispatcher's last run (Redis). Each problem has two wordings: staff read
what is wrong, what it means for their texts and who fixes it; admins read what to fix.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import amqp
import kombu
import redis
import requests
from django.conf import settings
from django.db.models import Min
from django.db.models.functions import Coalesce
from django.utils import timezone

from auth_tokens.api import BLOCKED, NOT_CONFIGURED, THROTTLED, token_status
from smsapp.backends import get_backend
from smsapp.heartbeats import KEY as HEARTBEATS_KEY
from smsapp.models import Message
from smsapp.phones import is_e164
from smsapp.ratelimit import shared_redis

PROBE_KEY = "smsapp:health:ringcentral"
DISPATCHER_KEY = "smsapp:health:dispatcher-ran"
PAUSE_KEY = "smsapp:ratelimit:Medium:paused-until"
# The problem clears by itself (a pause, a throttle) vs a person must act.
WAITING = "waiting"
ACTION = "action"


@dataclass(frozen=True)
class Problem:
    key: str
    severity: str
    staff: str  # what is wrong, what it means for their texts, who fixes it
    admin: str  # what to fix, with setting names and codes


@dataclass(frozen=True)
class SendingHealth:
    problems: list[Problem] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        """Texts go out, or will by themselves: nothing down and nothing needing a person."""
        return not any(p.severity == ACTION for p in self.problems)

    @property
    def staff_summary(self) -> str:
        return " ".join(p.staff for p in self.problems)


def _redis(url: str) -> redis.Redis:
    # Short timeouts: a page waits on these when Redis is down.
    return shared_redis(url, timeout=2.0)


def sending_health() -> SendingHealth:
    problems: list[Problem] = []
    checks: dict[str, Any] = {}
    for line in configuration_problems():
        problems.append(
            Problem(
                "configuration",
                ACTION,
                "Texts cannot go out: the server is not set up to send them. An admin must "
                "fix its settings.",
                line,
            )
        )
    if uses_ringcentral():
        problems += _login_problems(checks)
    problems += _broker(checks)
    try:
        client = _redis(settings.REDIS_URL)
        # Usually the broker's own Redis, just pinged: one round trip per page, not two.
        if settings.REDIS_URL != settings.CELERY_BROKER_URL or checks["broker"] != "ok":
            client.ping()
    except redis.RedisError as error:
        checks["redis"] = f"error: {type(error).__name__}"
        problems.append(
            Problem(
                "redis",
                ACTION,
                "Texts cannot go out: a part of the system is down. An admin has been told "
                "by the health check.",
                f"Redis at REDIS_URL does not answer ({type(error).__name__})",
            )
        )
    else:
        checks["redis"] = "ok"
        if uses_ringcentral():
            problems += _reachability(client, checks) + _pause(client, checks)
        problems += _workers_and_beat(client, checks)
    problems += _backlog(checks)
    return SendingHealth(problems, checks)


def uses_ringcentral() -> bool:
    """Decided by the backend class, not the setting's spelling: a subclass of the RingCentral
    backend (under any dotted path) still needs RingCentral's login and settings."""
    return get_backend().talks_to_ringcentral


def configuration_problems() -> list[str]:
    """Settings that make real sending impossible, in one line each (for /healthz and admins).
    Start-up validation catches most; these are the ones that start fine and fail later."""
    problems = []
    if not settings.DEBUG and not get_backend().sends_for_real:
        problems.append(
            f"SMS_BACKEND={settings.SMS_BACKEND} does not send texts: they are marked sent "
            "but nobody receives them (set SMS_BACKEND=ringcentral)"
        )
    if uses_ringcentral():
        url = urlsplit(settings.RINGCENTRAL_SERVER_URL)
        if url.scheme not in ("http", "https") or not url.hostname:
            problems.append("RINGCENTRAL_SERVER_URL is not an http(s) URL with a host")
        if not is_e164(settings.SMS_FROM_NUMBER):
            problems.append("SMS_FROM_NUMBER is not an E.164 number like +16505550100")
    return problems


def record_probe(*, reachable: bool, detail: str) -> None:
    """The reachability probe's result; `since` keeps when the current state began."""
    client = _redis(settings.REDIS_URL)
    now = time.time()
    previous = _read_json(client, PROBE_KEY) or {}
    since = previous.get("since", now) if previous.get("reachable") == reachable else now
    client.set(
        PROBE_KEY,
        json.dumps({"reachable": reachable, "detail": detail, "since": since, "at": now}),
        ex=int(probe_stale_after()) + 60,
    )


def record_dispatcher_run() -> None:
    _redis(settings.REDIS_URL).set(DISPATCHER_KEY, time.time(), ex=3600)


def probe_stale_after() -> float:
    return 3 * settings.SMS_PROBE_INTERVAL


def probe_ringcentral() -> str:
    """Is RingCentral's API answering? Its unauthenticated version endpoint costs no token and
    no rate-limit slot; run by beat every SMS_PROBE_INTERVAL so an outage shows within a
    minute even when no text is being sent."""
    url = f"{settings.RINGCENTRAL_SERVER_URL.rstrip('/')}/restapi/v1.0"
    timeout = min(5.0, settings.RINGCENTRAL_HTTP_TIMEOUT)
    try:
        response = requests.get(url, timeout=(timeout, timeout))
    except requests.RequestException as error:
        detail = f"no answer ({type(error).__name__})"
        reachable = False
    else:
        # 5xx: down for us; anything else (even 401/404) means a server is answering.
        reachable = response.status_code < 500
        detail = f"HTTP {response.status_code}"
    record_probe(reachable=reachable, detail=detail)
    return detail


def _ping_broker() -> None:
    if settings.BROKER_IS_RABBITMQ:
        # One connection attempt, no retries: a page waits on it when RabbitMQ is down.
        with kombu.Connection(settings.CELERY_BROKER_URL, connect_timeout=2.0) as connection:
            connection.ensure_connection(max_retries=0)
    else:
        _redis(settings.CELERY_BROKER_URL).ping()


def _broker(checks: dict[str, Any]) -> list[Problem]:
    try:
        _ping_broker()
    except (redis.RedisError, kombu.exceptions.KombuError, amqp.AMQPError, OSError) as error:
        checks["broker"] = f"error: {type(error).__name__}"
        return [
            Problem(
                "broker",
                ACTION,
                "Texts cannot go out: a part of the system is down. An admin must look at "
                "the health check.",
                f"The Celery broker at CELERY_BROKER_URL does not answer ({type(error).__name__})",
            )
        ]
    checks["broker"] = "ok"
    return []


def _login_problems(checks: dict[str, Any]) -> list[Problem]:
    status = token_status()
    checks["tokens"] = {"state": status.state, "summary": status.summary}
    if status.state == THROTTLED:
        return [
            Problem(
                "login",
                WAITING,
                "Texts are waiting a few minutes: RingCentral asked us to slow down logging "
                "in. They will go out by themselves.",
                f"RingCentral token requests are {status.summary}",
            )
        ]
    if status.state == NOT_CONFIGURED:
        # Not a login problem: no login is even tried until an admin sets what is missing
        # (texts wait for it: docs/exactly-once.md, "Waiting for a person").
        return [
            Problem(
                "configuration",
                ACTION,
                "Texts are waiting: the server's RingCentral settings are incomplete. An "
                "admin must fix them; then the texts go out.",
                f"RingCentral settings: {status.summary}",
            )
        ]
    if status.state == BLOCKED:
        error = status.last_error or {}
        return [
            Problem(
                "login",
                ACTION,
                "Texts are waiting: the app cannot sign in to RingCentral. Nothing is lost; "
                "an admin must fix the RingCentral login, then they go out.",
                f"RingCentral login: {status.summary}. {error.get('hint', '')}".strip(),
            )
        ]
    return []


def _reachability(client: redis.Redis, checks: dict[str, Any]) -> list[Problem]:
    probe = _read_json(client, PROBE_KEY)
    if probe is None or time.time() - probe["at"] > probe_stale_after():
        checks["ringcentral"] = "unknown: no recent probe"
        return []  # the workers-and-beat check says why no probe ran
    if probe["reachable"]:
        checks["ringcentral"] = "ok"
        return []
    minutes = max(1, round((time.time() - probe["since"]) / 60))
    checks["ringcentral"] = f"unreachable: {probe['detail']}"
    return [
        Problem(
            "ringcentral",
            ACTION,
            f"Texts are waiting: RingCentral cannot be reached (for about {minutes} min). "
            "Nothing is lost; they go out once it answers again. If this lasts, tell an admin.",
            f"RingCentral at RINGCENTRAL_SERVER_URL does not answer: {probe['detail']}",
        )
    ]


def _pause(client: redis.Redis, checks: dict[str, Any]) -> list[Problem]:
    raw = client.get(PAUSE_KEY)
    left = float(raw) - time.time() if raw else 0.0
    if left <= 0:
        return []
    checks["rate_limit_pause_seconds"] = round(left)
    return [
        Problem(
            "rate_limit",
            WAITING,
            f"Texts are waiting about {left:.0f} s: RingCentral asked us to slow down. "
            "They will go out by themselves.",
            f"Fleet-wide pause after a RingCentral 429: {left:.0f} s left",
        )
    ]


def _workers_and_beat(client: redis.Redis, checks: dict[str, Any]) -> list[Problem]:
    now = time.time()
    alive = client.zcount(HEARTBEATS_KEY, now - settings.SMS_LEASE_SECONDS, "+inf")
    checks["workers"] = alive
    problems = []
    if not alive:
        problems.append(
            Problem(
                "workers",
                ACTION,
                "Texts are not going out: the sending service is not running. An admin must "
                "start it; nothing is lost meanwhile.",
                "No Celery worker has beaten in the last SMS_LEASE_SECONDS: start "
                "`celery -A smsapp worker`",
            )
        )
    ran = client.get(DISPATCHER_KEY)
    quiet_for = now - float(ran) if ran else None
    limit = max(60.0, 3 * settings.SMS_DISPATCH_INTERVAL)
    checks["dispatcher_seconds_ago"] = round(quiet_for) if quiet_for is not None else None
    if alive and (quiet_for is None or quiet_for > limit):
        problems.append(
            Problem(
                "beat",
                ACTION,
                "Scheduled texts and retries are not going out: a part of the sending service "
                "is not running. An admin must start it.",
                "The dispatcher has not run in the last minute: start exactly one "
                "`celery -A smsapp beat`",
            )
        )
    return problems


def _backlog(checks: dict[str, Any]) -> list[Problem]:
    # Waiting since it was due (its send time, or its creation): what staff care about, and
    # unlike updated_at it does not restart with every retry.
    due = Message.objects.filter(
        status__in=[Message.Status.QUEUED, Message.Status.SENDING, Message.Status.UNCERTAIN]
    ).aggregate(oldest=Min(Coalesce("send_at", "created_at")))["oldest"]
    age = timezone.now() - due if due else timedelta(0)
    checks["oldest_waiting_seconds"] = max(0, round(age.total_seconds()))
    limit = timedelta(minutes=settings.SMS_HEALTH_WAITING_MINUTES)
    if age <= limit:
        return []
    return [
        Problem(
            "backlog",
            ACTION,
            f"Some texts have been waiting more than {limit.total_seconds() / 60:.0f} min. "
            "They are not lost; an admin must look at why.",
            f"The oldest waiting text has waited {age.total_seconds() / 60:.0f} min (more "
            "than SMS_HEALTH_WAITING_MINUTES)",
        )
    ]


def _read_json(client: redis.Redis, key: str) -> dict[str, Any] | None:
    raw = client.get(key)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
