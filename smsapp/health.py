"""Sending health: the banner on staff pages and the /healthz endpoint."""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from auth_tokens.status import BLOCKED, NOT_CONFIGURED, THROTTLED, token_status

TOKEN_VIEW_PERMISSION = "auth_tokens.view_ringcentraltoken"  # noqa: S105 - a permission name


def uses_ringcentral() -> bool:
    return settings.SMS_BACKEND in ("ringcentral", "smsapp.backends.ringcentral.RingCentralBackend")


def sending_banner(request: HttpRequest) -> dict[str, Any]:
    """Context processor: a banner when texts cannot go out until time passes or someone acts."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated and uses_ringcentral()):
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
    healthy = checks["database"] == "ok" and checks["broker"] == "ok"
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
