"""Reading RingCentral message records, whichever way they came (webhook body or sync)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from smsapp.phones import is_e164, to_e164


@dataclass(frozen=True)
class InboundRecord:
    ringcentral_id: str
    from_number: str
    to_number: str
    text: str
    received_at: datetime


def is_inbound_sms(record: dict[str, Any]) -> bool:
    return record.get("direction") == "Inbound" and record.get("type", "SMS") == "SMS"


def inbound_record(record: dict[str, Any]) -> InboundRecord | None:
    """The fields we keep, or None for a record that cannot be stored (no id or sender)."""
    ringcentral_id = str(record.get("id") or "").strip()
    sender = (record.get("from") or {}).get("phoneNumber") or ""
    if not ringcentral_id or not sender:
        return None
    recipients = [t for t in record.get("to") or [] if isinstance(t, dict)]
    # The webhook body marks our own number among the recipients with "target": true.
    ours = next((t for t in recipients if t.get("target")), recipients[0] if recipients else {})
    received = parse_datetime(str(record.get("creationTime") or "")) or timezone.now()
    return InboundRecord(
        ringcentral_id=ringcentral_id,
        from_number=normalised(sender),
        to_number=normalised(ours.get("phoneNumber") or settings.SMS_FROM_NUMBER),
        # There is no "text" field: the words are in `subject` (docs/ringcentral.md#inbound).
        text=str(record.get("subject") or ""),
        received_at=received,
    )


def normalised(number: str) -> str:
    """E.164 where the number is one. Records hold numbers "usually" in E.164, sometimes as
    plain digits with the country code (18661234567) or formatted ((866)123-4567); a short
    code or a sender name stays as given, so it still gets its own conversation."""
    number = number.strip()
    if is_e164(number):
        return number
    # The region first: "(866)123-4567" and "18661234567" are US numbers there, while "+"
    # and the digits could read "8661234567" as a number in China (+86).
    if found := to_e164(number, settings.SMS_DEFAULT_REGION):
        return found
    digits = "".join(c for c in number if c.isdigit())
    if digits and (plus := to_e164(f"+{digits}", "ZZ")):
        return plus
    return number[:20]
