"""Beat's recurring-send work. Thin: services decide."""

from __future__ import annotations

from celery import shared_task

from recurring.services.materialise import recurring_sends_materialise


@shared_task(name="recurring.materialise", ignore_result=True)
def materialise() -> int:
    done = recurring_sends_materialise()
    return done.created + done.skipped + done.failed
