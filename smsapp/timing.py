"""Timing rules between settings, derived in one place and checked at every start.

Each rule guards exactly-once sending: broken, it lets a send still in flight be settled (and
sent again), or lets Redis hand the same task out twice. Violations are reported as one line
each, naming the settings, by `manage.py check` and before any entry point starts.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from auth_tokens.api import worst_request_seconds

# The backstop's margin over the slowest attempt: the database updates around the call and the
# rate limiter's Redis round trips take milliseconds; 30 s absorbs a slow database or a GC pause.
BACKSTOP_MARGIN_SECONDS = 30.0


def worst_attempt_seconds() -> float:
    """The longest one send attempt can take: one authorized REST call at worst (token lock
    wait, refresh and login, the SMS call, then all of it again after a 401)."""
    return worst_request_seconds()


def stale_sending_seconds() -> float:
    """The backstop age after which a "sending" message is settled even with a live lease."""
    return settings.SMS_STALE_SENDING_SECONDS or worst_attempt_seconds() + BACKSTOP_MARGIN_SECONDS


def stale_sending_after() -> timedelta:
    return timedelta(seconds=stale_sending_seconds())


def uncertain_settle() -> timedelta:
    """How long after an attempt's outcome became unknown the store is believed about its
    absence (an accepted text may take seconds to show in lists)."""
    return timedelta(seconds=settings.SMS_UNCERTAIN_SETTLE_SECONDS)


def dispatch_horizon() -> timedelta:
    """How far ahead the dispatcher looks: its interval and half again (beat's own jitter), so
    whatever falls due before its next run is queued now with a countdown to the second."""
    return timedelta(seconds=1.5 * settings.SMS_DISPATCH_INTERVAL)


def visibility_timeout_seconds() -> float | None:
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    value = options.get("visibility_timeout")
    return float(value) if value is not None else None


def timing_problems() -> list[tuple[str, str]]:
    """(check id, one line) per broken rule; empty when the settings are consistent."""
    problems: list[tuple[str, str]] = []
    backstop = stale_sending_seconds()
    worst = worst_attempt_seconds()
    settle = settings.SMS_UNCERTAIN_SETTLE_SECONDS
    lease = settings.SMS_LEASE_SECONDS
    redispatch = settings.SMS_REDISPATCH_SECONDS
    visibility = visibility_timeout_seconds()
    if backstop <= worst:
        problems.append(
            (
                "smsapp.E001",
                f"SMS_STALE_SENDING_SECONDS ({backstop:g}) must exceed the slowest possible send "
                f"attempt, {worst:g} s with RINGCENTRAL_HTTP_TIMEOUT="
                f"{settings.RINGCENTRAL_HTTP_TIMEOUT:g}: a send still in flight would be "
                "settled and could go out twice (leave it unset to derive it)",
            )
        )
    if settle >= backstop:
        problems.append(
            (
                "smsapp.E002",
                f"SMS_UNCERTAIN_SETTLE_SECONDS ({settle:g}) must be below "
                f"SMS_STALE_SENDING_SECONDS ({backstop:g}): an uncertain text would wait longer "
                "than an abandoned one",
            )
        )
    if lease >= backstop:
        problems.append(
            (
                "smsapp.E003",
                f"SMS_LEASE_SECONDS ({lease:g}) must be below SMS_STALE_SENDING_SECONDS "
                f"({backstop:g}): the lease is what settles an abandoned send early",
            )
        )
    if visibility is not None and redispatch >= visibility:
        problems.append(
            (
                "smsapp.E004",
                f"SMS_REDISPATCH_SECONDS ({redispatch:g}) must be below the broker's "
                f"visibility_timeout (CELERY_VISIBILITY_TIMEOUT, {visibility:g}): a lost task "
                "must be queued again before Redis hands the old one out a second time",
            )
        )
    return problems
