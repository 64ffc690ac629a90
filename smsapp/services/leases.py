"""Claim leases: an attempt proves it is alive by renewing a short lease on its message row.

The sweeper settles a "sending" message as soon as its lease has lapsed (the holder died),
rather than after an age that must outlast the slowest possible attempt (minutes). Times are
the database's clock (Now()), so hosts with skewed clocks agree on when a lease ran out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import DateTimeField, ExpressionWrapper, Q
from django.db.models.functions import Now

from smsapp.models import Message

logger = logging.getLogger(__name__)
# Renew three times per lease: two renewals may fail (a database blip) before it lapses.
RENEWALS_PER_LEASE = 3


def new_holder() -> str:
    """Unique per attempt, and says where it ran: host, process id, attempt."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_expiry() -> ExpressionWrapper:
    """A lease from now, by the database's clock (for an UPDATE's SET)."""
    return ExpressionWrapper(
        Now() + timedelta(seconds=settings.SMS_LEASE_SECONDS), output_field=DateTimeField()
    )


def lease_lapsed() -> Q:
    """Rows whose attempt holds no live lease (none taken, released, or run out)."""
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=Now())


@contextmanager
def lease_kept_alive(message_id: int, holder: str) -> Iterator[None]:
    """Renew the lease in a background thread while the body (the provider call) runs."""
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew_until_stopped,
        args=(message_id, holder, stop),
        name=f"sms-lease-{message_id}",
        daemon=True,
    )
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        # Never wait long: a renewal stuck on the database must not hold up the outcome.
        renewer.join(timeout=1.0)


def _renew_until_stopped(message_id: int, holder: str, stop: threading.Event) -> None:
    interval = settings.SMS_LEASE_SECONDS / RENEWALS_PER_LEASE
    try:
        while not stop.wait(interval):
            try:
                renewed = Message.objects.filter(
                    pk=message_id,
                    lease_holder=holder,
                    status__in=[Message.Status.SENDING, Message.Status.UNCERTAIN],
                ).update(lease_expires_at=lease_expiry())
            except DatabaseError as error:  # try again next time; the lease has slack
                logger.warning("could not renew the lease of SMS #%s: %s", message_id, error)
                continue
            if not renewed:
                return  # settled by someone else, or the attempt already recorded
    finally:
        connection.close()  # this thread's own connection (Django's are per thread)
