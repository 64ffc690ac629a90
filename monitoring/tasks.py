"""Beat's minute check: alert emails, and the token history's retention."""

from __future__ import annotations

from celery import shared_task

from monitoring.services.alerts import alerts_check
from monitoring.services.retention import token_events_prune


@shared_task(name="monitoring.check_alerts", ignore_result=True)
def check_alerts() -> str:
    emailed = alerts_check()
    pruned = token_events_prune()
    return f"alerts emailed: {', '.join(emailed) or 'none'}; token events pruned: {pruned}"
