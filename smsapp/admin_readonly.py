"""Admin pages for rows only services write: visible, never added, changed or deleted by hand."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class NoHandEdits:
    """Mixed into a ModelAdmin or an inline: the rows are a record of what happened."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
