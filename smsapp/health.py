"""Sending health: the banner on staff pages and the /healthz endpoint."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from auth_tokens.status import BLOCKED, NOT_CONFIGURED, THROTTLED, token_status
from smsapp.backends import get_backend
from smsapp.services.messages import E164

TOKEN_VIEW_PERMISSION = "auth_tokens.view_ringcentraltoken"  # noqa: S105 - a permission name


SEND_PERMISSION = "smsapp.send_sms"


def uses_ringcentral() -> bool:
    return settings.SMS_BACKEND in ("ringcentral", "smsapp.backends.ringcentral.RingCentralBackend")


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
        if not E164.match(settings.SMS_FROM_NUMBER or ""):
            problems.append("SMS_FROM_NUMBER is not an E.164 number like +16505550100")
    return problems


def sending_banner(request: HttpRequest) -> dict[str, Any]:
    """Context processor: a banner when texts cannot go out until time passes or someone acts."""
    user = getattr(request, "user", None)
    # Only people who send (or look after the login) see it: it names the RingCentral user
    # and server, which are none of anyone else's business.
    if not (user and user.is_authenticated):
        return {}
    if not (user.has_perm(SEND_PERMISSION) or user.has_perm(TOKEN_VIEW_PERMISSION)):
        return {}
    if not settings.DEBUG and not get_backend().sends_for_real:
        return {
            "sending_banner": {
                "text": "Texts are not being sent: this server is set up to only pretend "
                "(a test setting). An admin must switch it to RingCentral.",
                "hint": "",
                "admin_link": False,
            }
        }
    if not uses_ringcentral():
        return {}
    status = token_status()
    if not status.needs_attention:
        return {}
    who = f"{status.username}{f' ext {status.extension}' if status.extension else ''}"
    if status.state == THROTTLED:
        text = (
            f"Texts are waiting: RingCentral is rate-limiting logins ({status.summary}). "
            "They will go out by themselves."
        )
    elif status.state == BLOCKED:
        text = (
            f"Texts are waiting: RingCentral rejected the login for "
            f"{who or 'the configured user'} at {status.server_url}. An admin must fix the "
            "RingCentral settings or retry the login."
        )
    else:
        text = f"Texts cannot be sent: RingCentral is {status.summary}."
    return {
        "sending_banner": {
            "text": text,
            "hint": (status.last_error or {}).get("hint", ""),
            "admin_link": user.has_perm(TOKEN_VIEW_PERMISSION),
        }
    }


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, broker and token state: 200 when texts can go out (or will by themselves),
    503 when something is down or needs a person."""
    checks: dict[str, Any] = {"database": _database(), "broker": _broker()}
    problems = configuration_problems()
    checks["configuration"] = problems or "ok"
    healthy = checks["database"] == "ok" and checks["broker"] == "ok" and not problems
    if uses_ringcentral() and checks["database"] == "ok":
        status = token_status()
        checks["tokens"] = {"state": status.state, "summary": status.summary}
        healthy = healthy and status.state not in (BLOCKED, NOT_CONFIGURED)
    checks["status"] = "ok" if healthy else "unhealthy"
    return JsonResponse(checks, status=200 if healthy else 503)


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """Liveness for container orchestration: the process answers. Restarting cannot fix a
    rejected password, so that belongs in /healthz, not here."""
    return JsonResponse({"status": "ok"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any driver error means "down" for a health check
        return f"error: {type(error).__name__}"
    return "ok"


def _broker() -> str:
    try:
        redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2
        ).ping()
    except redis.RedisError as error:
        return f"error: {type(error).__name__}"
    return "ok"
