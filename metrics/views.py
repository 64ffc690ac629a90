"""GET /metrics for Prometheus, with a bearer token (settings.METRICS_TOKEN)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from metrics.exposition import exposition


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    expected = settings.METRICS_TOKEN
    if not expected:
        # Not configured: the endpoint does not exist, rather than exist open to anyone.
        raise Http404("metrics are off: set METRICS_TOKEN")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Constant time: how much of a guess was right must not show in how long a "no" takes.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        refused = HttpResponse(
            "401: /metrics needs Authorization: Bearer <METRICS_TOKEN>\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refused
    return HttpResponse(exposition(settings.METRICS_DIR), content_type=CONTENT_TYPE_LATEST)
