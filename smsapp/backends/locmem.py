"""An in-memory outbox, for tests: texts are kept, never sent."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.utils import timezone

from smsapp.backends.base import BaseSmsBackend, Delivery, OutgoingSms

outbox: list[tuple[str, datetime, OutgoingSms]] = []
_ids = itertools.count(1)


class LocmemBackend(BaseSmsBackend):
    sends_for_real = False

    def send(self, sms: OutgoingSms) -> str:
        provider_id = f"locmem-{next(_ids)}"
        outbox.append((provider_id, timezone.now(), sms))
        return provider_id

    def find_sent(self, sms: OutgoingSms, since: datetime, until: datetime) -> list[str]:
        return [pid for pid, at, sent in outbox if sent == sms and since <= at <= until]

    def delivery(self, provider_message_id: str) -> Delivery:
        return Delivery("delivered")
