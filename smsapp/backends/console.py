"""Prints texts instead of sending them, for development without RingCentral."""

from __future__ import annotations

import sys
import uuid
from datetime import datetime

from smsapp.backends.base import BaseSmsBackend, Delivery, OutgoingSms


class ConsoleBackend(BaseSmsBackend):
    sends_for_real = False

    def send(self, sms: OutgoingSms) -> str:
        provider_id = f"console-{uuid.uuid4().hex[:12]}"
        sys.stdout.write(f"[sms {provider_id}] {sms.from_number} -> {sms.to_number}: {sms.text}\n")
        sys.stdout.flush()
        return provider_id

    def find_sent(self, sms: OutgoingSms, since: datetime, until: datetime) -> list[str]:
        return []  # a console "send" cannot fail halfway

    def delivery(self, provider_message_id: str) -> Delivery:
        return Delivery("delivered")
