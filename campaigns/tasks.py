"""Beat's bulk-send work. Thin: services decide."""

from __future__ import annotations

from celery import shared_task

from campaigns.services.feed import bulk_feed


@shared_task(name="campaigns.feed_bulk_sends", ignore_result=True)
def feed_bulk_sends() -> int:
    return bulk_feed()


@shared_task(name="campaigns.settle_a2p_batches", ignore_result=True)
def settle_a2p_batches() -> int:
    from campaigns.services.a2p import a2p_settle_uncertain

    return a2p_settle_uncertain()


@shared_task(name="campaigns.poll_a2p_statuses", ignore_result=True)
def poll_a2p_statuses() -> int:
    from campaigns.services.a2p import a2p_poll_statuses

    return a2p_poll_statuses()
