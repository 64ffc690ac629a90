"""Show where texts stand: the given ids, or the 20 most recent, as a table or as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import Truncator

from smsapp.models import Message

RECENT = 20
REASON_WIDTH = 60
Status = Message.Status


class Command(BaseCommand):
    help = (
        f"Show the status of the given messages, or of the {RECENT} most recent. "
        "Fails, printing nothing, if an id is unknown."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, metavar="ID", help="message ids")
        parser.add_argument("--json", action="store_true", help="print JSON only, for scripts")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] = list(dict.fromkeys(options["ids"]))
        if ids:
            found = Message.objects.in_bulk(ids)
            # All or nothing: a script reading the output must not mistake a partial list for
            # the whole answer.
            missing = [pk for pk in ids if pk not in found]
            if missing:
                raise CommandError(
                    f"No message with id {', '.join(str(pk) for pk in missing)}; nothing shown."
                )
            messages = [found[pk] for pk in ids]
        else:
            messages = list(Message.objects.order_by("-created_at", "-id")[:RECENT])
        if options["json"]:
            self.stdout.write(json.dumps([_as_json(m) for m in messages]))
        elif not messages:
            self.stdout.write("No messages yet.")
        else:
            self.stdout.write("\n".join(_table(messages)))


def _as_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "status": message.status,
        "to": message.to_number,
        "from": message.from_number,
        "provider_message_id": message.provider_message_id or None,
        "error": message.error_reason or None,
        "error_code": message.error_code or None,
        "created_at": _iso(message.created_at),
        "send_at": _iso(message.send_at),
        "sent_at": _iso(message.sent_at),
        "delivered_at": _iso(message.delivered_at),
    }


def _table(messages: list[Message]) -> list[str]:
    header = ("ID", "STATUS", "TO", "PROVIDER ID", "WHEN", "ERROR")
    rows = [
        (
            str(m.pk),
            m.status,
            m.to_number,
            m.provider_message_id or "-",
            _when(m),
            Truncator(" ".join(m.error_reason.split())).chars(REASON_WIDTH) or "-",
        )
        for m in messages
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def _when(message: Message) -> str:
    """The time that matters for where the message is: due, sent, delivered, or created."""
    if message.status == Status.SCHEDULED and message.send_at:
        return f"due {_stamp(message.send_at)}"
    if message.delivered_at:
        return f"delivered {_stamp(message.delivered_at)}"
    if message.sent_at:
        return f"sent {_stamp(message.sent_at)}"
    return f"created {_stamp(message.created_at)}"


def _stamp(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z"


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None
