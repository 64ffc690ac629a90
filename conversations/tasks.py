"""Beat's inbound work: the message sync and the webhook subscription. Thin: services decide."""

from __future__ import annotations

from celery import shared_task

from conversations.services.sync import message_sync_due, message_sync_run
from conversations.services.webhooks import subscription_maintain
from smsapp.sending_health import uses_ringcentral


@shared_task(name="conversations.sync_messages", ignore_result=True)
def sync_messages() -> str:
    # Without RingCentral (the console or locmem backend) nothing comes in.
    if not uses_ringcentral() or not message_sync_due():
        return "not due"
    result = message_sync_run()
    return f"stored {result.stored}, statuses {result.statuses} {result.detail}".strip()


@shared_task(name="conversations.maintain_webhook", ignore_result=True)
def maintain_webhook() -> str:
    if not uses_ringcentral():
        return "no RingCentral"
    return subscription_maintain()
