"""The dashboard page. Thin: monitoring.dashboard reads, the template shows."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from monitoring.dashboard import dashboard_context
from monitoring.permissions import can_view_dashboard


def viewer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous users go to the login page; others without the view rights get 403."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_view_dashboard(request.user):
            raise PermissionDenied(
                "The dashboard is for staff who may view texts and the RingCentral token."
            )
        return view(request, *args, **kwargs)

    return wrapped


@viewer_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    # The person's zone (their setting, else their browser's): smsapp.middleware activated it.
    context = dashboard_context(now=timezone.now(), zone=timezone.get_current_timezone())
    return render(request, "monitoring/dashboard.html", context)
