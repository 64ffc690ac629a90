"""Every change to a message's state happens here; views, tasks and commands call these."""

from __future__ import annotations

from smsapp.services.delivery import messages_check_delivery
from smsapp.services.dispatch import messages_dispatch_due
from smsapp.services.messages import message_cancel, message_create, message_retry
from smsapp.services.sending import message_reconcile, message_send
from smsapp.services.sweep import messages_reconcile_stuck, messages_requeue_for_dead_workers

__all__ = [
    "message_cancel",
    "message_create",
    "message_reconcile",
    "message_retry",
    "message_send",
    "messages_check_delivery",
    "messages_dispatch_due",
    "messages_reconcile_stuck",
    "messages_requeue_for_dead_workers",
]
