"""How long the token history is kept: TokenEvent.RETENTION_DAYS, pruned by the alerts task."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from auth_tokens.api import TokenEvent


def token_events_prune(*, now: datetime | None = None) -> int:
    """Delete the token events older than the retention; returns how many. One DELETE over
    the (at, id) index: a few hundred rows a week, so one statement is short."""
    cutoff = (now or timezone.now()) - timedelta(days=TokenEvent.RETENTION_DAYS)
    deleted, _ = TokenEvent.objects.filter(at__lt=cutoff).delete()
    return deleted
