"""{% if user|can_view_dashboard %}: the nav and the admin index link to the dashboard only for
those it would not refuse (monitoring.permissions decides, in one place)."""

from __future__ import annotations

from typing import Any

from django import template

from monitoring.permissions import can_view_dashboard as _can_view

register = template.Library()


@register.filter
def can_view_dashboard(user: Any) -> bool:
    return _can_view(user)
