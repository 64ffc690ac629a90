"""Sending health on the pages: the staff banner and the /healthz endpoints (the facts and
their wording live in smsapp.sending_health)."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from conversations.selectors import inbound_health
from smsapp.permissions import SEND_PERMISSION
from smsapp.sending_health import sending_health

TOKEN_VIEW_PERMISSION = "auth_tokens.view_ringcentraltoken"  # noqa: S105 - a permission name


def sending_banner(request: HttpRequest) -> dict[str, Any]:
    """Context processor: a banner while texts cannot go out, in staff wording; it clears
    when the problem does (each page load reads the facts afresh)."""
    user = getattr(request, "user", None)
    # Only people who send (or look after the login) see it.
    if not (user and user.is_authenticated):
        return {}
    if not (user.has_perm(SEND_PERMISSION) or user.has_perm(TOKEN_VIEW_PERMISSION)):
        return {}
    try:
        health = sending_health()
    except DatabaseError:
        return {}  # the page itself is failing; the banner would only fail too
    if not health.problems:
        return {}
    return {
        "sending_banner": {
            "text": health.staff_summary,
            "admin_details": [p.admin for p in health.problems]
            if user.has_perm(TOKEN_VIEW_PERMISSION)
            else [],
            "admin_link": user.has_perm(TOKEN_VIEW_PERMISSION),
        }
    }


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when texts go out (or will by themselves), 503 when something is down or needs a
    person; the body says what, in admin wording."""
    if not _database_ok():
        return JsonResponse({"database": "error", "status": "unhealthy"}, status=503)
    health = sending_health()
    body: dict[str, Any] = {"database": "ok", **health.checks, "inbound": inbound_health()}
    body["problems"] = [
        {"key": p.key, "severity": p.severity, "detail": p.admin} for p in health.problems
    ]
    body["status"] = "ok" if health.healthy else "unhealthy"
    return JsonResponse(body, status=200 if health.healthy else 503)


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """Liveness for container orchestration: the process answers. Restarting cannot fix a
    rejected password, so that belongs in /healthz, not here."""
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any driver error means "down" for a health check
        return False
    return True
