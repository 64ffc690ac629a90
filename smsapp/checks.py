"""System checks: the timing rules between settings (smsapp.timing), as `manage.py check` errors."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register

from smsapp.timing import timing_problems


@register("smsapp_timing")
def timing_rules(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [Error(line, id=check_id) for check_id, line in timing_problems()]
