"""Show where texts stand: the given ids, or the 20 most recent, as a table or as JSON."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import Truncator

from smsapp import selectors
from smsapp.models import Message

RECENT = 20
REASON_WIDTH = 60
Status = Message.Status
# ASCII digits only: "²" is a digit to str.isdigit() but not to int().
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


class Command(BaseCommand):
    help = (
        f"Show the status of the given messages, or of the {RECENT} most recent. "
        "Fails, printing nothing, if an id is unknown."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # Read as text, not type=int: argparse's error would print the usage too (not one
        # line), and an id past 64 bits must be "no such message", not an overflow.
        parser.add_argument("ids", nargs="*", metavar="ID", help="message ids")
        parser.add_argument("--json", action="store_true", help="print JSON only, for scripts")

    def handle(self, *args: Any, **options: Any) -> None:
        typed: list[str] = list(dict.fromkeys(text.strip() for text in options["ids"]))
        if words := [text for text in typed if not _DIGITS.fullmatch(text)]:
            shown = ", ".join(f"“{word}”" for word in words)
            raise CommandError(
                f"Not a message id: {shown} (ids are whole numbers, as send_sms prints them); "
                "nothing shown."
            )
        if typed:
            # None for a number no message can have (0, past 64 bits): reported as missing.
            ids = {text: selectors.message_id(text) for text in typed}
            found = Message.objects.in_bulk([pk for pk in ids.values() if pk is not None])
            # All or nothing: a script reading the output must not mistake a partial list for
            # the whole answer.
            missing = [text for text, pk in ids.items() if pk not in found]
            if missing:
                raise CommandError(f"No message with id {', '.join(missing)}; nothing shown.")
            messages = [found[pk] for pk in dict.fromkeys(ids.values()) if pk is not None]
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
