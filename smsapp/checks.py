"""System checks: the timing rules between settings (smsapp.timing), as `manage.py check` errors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from smsapp.timing import timing_problems


@register("smsapp_timing")
def timing_rules(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [Error(line, id=check_id) for check_id, line in timing_problems()]


@register("smsapp_backend")
def backend_sends(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from smsapp.backends import get_backend  # after the apps are ready

    if settings.DEBUG or get_backend().sends_for_real:
        return []
    return [
        Warning(
            f"SMS_BACKEND={settings.SMS_BACKEND} with DEBUG off: texts are marked sent but "
            "never leave this server; set SMS_BACKEND=ringcentral for production",
            id="smsapp.W001",
        )
    ]
