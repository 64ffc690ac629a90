"""Every event metric (counters and histograms) and the one-line calls that record them.

A leaf module: it imports prometheus_client and nothing of the project, so every app may
record here, auth_tokens included (which imports no other app). What is a fact of the database
(token expiry, queue depth, the oldest waiting text) is not kept here but read when Prometheus
scrapes (metrics.collectors): every process would otherwise have to keep it up to date.

Each worker and web process writes its counts to its own files in PROMETHEUS_MULTIPROC_DIR
(prometheus_client's multiprocess mode; docs/metrics.md says how the directory is set), and
/metrics adds them up. Labels stay few and bounded: no message ids, numbers or free text.

Recording never raises: a metric that cannot be written (the directory vanished, the disk is
full) must not turn a sent text into a failed task. It logs once per process instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from prometheus_client import Counter, Histogram

logger = logging.getLogger(__name__)
P = ParamSpec("P")
_failed_once = False

# The histograms below have no labels, so prometheus_client opens their file as they are
# defined: a directory that is not there yet would make this import, and the process, fail.
if _directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(_directory, exist_ok=True)

# Seconds from the moment a text was due (sent from the form, or its scheduled time) until
# RingCentral accepted it: normally about a second, minutes under a rate limit or a login
# problem, up to SMS_AUTH_HOLD_SECONDS.
SEND_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400)
# Seconds from RingCentral's acceptance to the carrier's receipt: seconds usually, hours for a
# phone that is off; the status check gives up after a day.
DELIVERY_BUCKETS = (2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400, 86400)

TEXTS = Counter(
    "smsapp_texts",
    "Texts by what happened to them: accepted, delivered, failed, no_receipt (final) and the "
    "attempts that did not end them: retry, rate_limited, held, uncertain",
    ["outcome", "reason_class"],
)
SEND_LATENCY = Histogram(
    "smsapp_send_latency_seconds",
    "From the moment a text was due (sent, or its scheduled time) to RingCentral accepting it",
    buckets=SEND_BUCKETS,
)
DELIVERY_LATENCY = Histogram(
    "smsapp_delivery_latency_seconds",
    "From RingCentral accepting a text to the carrier's delivery receipt",
    buckets=DELIVERY_BUCKETS,
)
RINGCENTRAL_REQUESTS = Counter(
    "smsapp_ringcentral_requests",
    "Requests to RingCentral by API group (Medium, Light, Heavy, Auth) and HTTP status; "
    'status "error" is a request that got no answer (timeout, connection)',
    ["group", "status"],
)
RATE_LIMITER_WAITS = Counter(
    "smsapp_rate_limiter_waits",
    "Requests the fleet's own limiter held back before they reached RingCentral, by group",
    ["group"],
)
RATE_LIMITED = Counter(
    "smsapp_ringcentral_rate_limited",
    "HTTP 429 answers from RingCentral's REST API, by group",
    ["group"],
)
PAUSE_SECONDS = Counter(
    "smsapp_rate_limit_pause_seconds",
    "Seconds of fleet-wide pause started, by group and cause: a 429's Retry-After (429) or "
    "RingCentral's headers saying the budget is spent (budget_spent)",
    ["group", "cause"],
)
TOKEN_RENEWALS = Counter(
    "smsapp_token_renewals",
    "New RingCentral tokens obtained, by kind: refresh or login",
    ["kind"],
)
TOKEN_RENEWAL_FAILURES = Counter(
    "smsapp_token_renewal_failures",
    "Token requests RingCentral refused or did not answer, by kind and RingCentral errorCode "
    '(HTTP-<status> without one, "unreachable" when there was no answer)',
    ["kind", "code"],
)


def _never_raises(record: Callable[P, None]) -> Callable[P, None]:
    @wraps(record)
    def safe(*args: P.args, **kwargs: P.kwargs) -> None:
        global _failed_once
        try:
            record(*args, **kwargs)
        except Exception as error:
            if not _failed_once:
                _failed_once = True
                logger.warning("metrics could not be recorded: %s", type(error).__name__)

    return safe


@_never_raises
def text_outcome(outcome: str, reason_class: str = "none") -> None:
    TEXTS.labels(outcome=outcome, reason_class=reason_class).inc()


@_never_raises
def text_accepted(seconds_since_due: float) -> None:
    TEXTS.labels(outcome="accepted", reason_class="none").inc()
    SEND_LATENCY.observe(max(0.0, seconds_since_due))


@_never_raises
def text_delivered(seconds_since_accepted: float) -> None:
    TEXTS.labels(outcome="delivered", reason_class="none").inc()
    DELIVERY_LATENCY.observe(max(0.0, seconds_since_accepted))


@_never_raises
def ringcentral_answered(group: str, status: int | str) -> None:
    RINGCENTRAL_REQUESTS.labels(group=group, status=str(status)).inc()
    if str(status) == "429":
        RATE_LIMITED.labels(group=group).inc()


@_never_raises
def limiter_held_back(group: str) -> None:
    RATE_LIMITER_WAITS.labels(group=group).inc()


@_never_raises
def pause_started(group: str, seconds: float, cause: str) -> None:
    PAUSE_SECONDS.labels(group=group, cause=cause).inc(max(0.0, seconds))


@_never_raises
def token_renewed(kind: str) -> None:
    TOKEN_RENEWALS.labels(kind=kind).inc()


@_never_raises
def token_renewal_failed(kind: str, code: str) -> None:
    TOKEN_RENEWAL_FAILURES.labels(kind=kind, code=code or "unknown").inc()
