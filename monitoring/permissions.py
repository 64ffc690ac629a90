"""Who may see the dashboard: staff who may view both the texts and the token row.

The dashboard shows what the admin's text list and token page show (counts, reasons, the token's
health), so it asks for the same view rights rather than a right of its own."""

from __future__ import annotations

from typing import Any

VIEW_PERMISSIONS = ("smsapp.view_message", "auth_tokens.view_ringcentraltoken")


def can_view_dashboard(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_staff and user.has_perms(VIEW_PERMISSIONS))
