"""Send (or schedule) a text from the command line, validated exactly as the web form does."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from smsapp.forms import ComposeForm
from smsapp.segments import MAX_TEXT_UNITS
from smsapp.services.messages import message_submit
from smsapp.validation import SUBMISSION_KEY_RULE

# Form field -> the option a person typed, so an error names what they can fix.
OPTION_FOR_FIELD = {"to": "--to", "text": "--text", "send_at": "--at", "submission_key": "--key"}
AT_EXAMPLE = "e.g. 2030-01-02T09:30:00Z or 2030-01-02T10:30:00+01:00"


class Command(BaseCommand):
    help = (
        "Send a text to one or more numbers now, or at --at. Prints the id of each message "
        "created, one per line; on bad input prints one line on stderr and creates nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            action="append",
            required=True,
            metavar="NUMBER",
            help=(
                "recipient in E.164 (+16505550123); repeat for more recipients, at most "
                f"SMS_MAX_RECIPIENTS ({settings.SMS_MAX_RECIPIENTS})"
            ),
        )
        parser.add_argument(
            "--text", required=True, help=f"the message, at most {MAX_TEXT_UNITS} characters"
        )
        parser.add_argument(
            "--at",
            metavar="ISO8601",
            help=(
                f"when to send, with a UTC offset or Z ({AT_EXAMPLE}), from now up to "
                f"SMS_MAX_SCHEDULE_DAYS ({settings.SMS_MAX_SCHEDULE_DAYS}) days ahead; "
                "default: now"
            ),
        )
        parser.add_argument(
            "--key",
            metavar="KEY",
            help=(
                f"an idempotency key ({SUBMISSION_KEY_RULE}): run again with the same key and "
                "the same texts (a retry after a timeout) and nothing new is sent, the first "
                "run's ids are printed again; the same key with other texts is refused"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        at: str | None = options["at"]
        if at is not None:
            _require_offset(at)
        key: str | None = options["key"]
        if key is not None and not key:
            raise CommandError("--key: Give a key, or leave the option out.")
        form = ComposeForm(
            data={
                "to": "\n".join(options["to"]),
                "text": options["text"],
                "send_at": at or "",
                # Without --key the form makes one for this run: nothing to repeat.
                "submission_key": key or "",
            }
        )
        # The form parses what people type (as the web page does) and applies the shared rules
        # (smsapp.validation); the service applies them again as the final authority.
        if not form.is_valid():
            raise CommandError(_one_line(form.errors.get_json_data()))
        try:
            submission = message_submit(
                to_numbers=form.cleaned_data["to"],
                text=form.cleaned_data["text"],
                send_at=form.cleaned_data["send_at"],
                submission_key=form.cleaned_data["submission_key"],
            )
        except ValidationError as error:
            raise CommandError(_one_line(_as_dict(error))) from None
        if submission.repeated:
            # stderr: stdout stays ids only, the same ids as the first run.
            self.stderr.write(f"Already sent with --key {key}: nothing new was sent.")
        # Only the ids: scripts read them (`for id in $(manage.py send_sms ...)`).
        for message in submission.messages:
            self.stdout.write(str(message.pk))


def _require_offset(at: str) -> None:
    """The web form reads a bare time in the browser's zone; a server has no such thing, and
    guessing UTC sends a text hours early or late."""
    try:
        when = parse_datetime(at.strip())
    except ValueError:
        when = None  # well-formed but impossible, such as month 13
    if when is None:
        raise CommandError(f"--at: Not an ISO 8601 time: “{at}” ({AT_EXAMPLE}).")
    if when.tzinfo is None:
        raise CommandError(
            f"--at: “{at}” has no UTC offset, so it is ambiguous; add Z or an offset "
            f"({AT_EXAMPLE})."
        )


def _as_dict(error: ValidationError) -> dict[str, list[Any]]:
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {"__all__": error.messages}


def _one_line(errors: dict[str, list[Any]]) -> str:
    """Every problem on one line, each prefixed with the option it is about."""
    parts = []
    for field, problems in errors.items():
        texts = [_sentence(p["message"] if isinstance(p, dict) else str(p)) for p in problems]
        option = OPTION_FOR_FIELD.get(field)
        joined = " ".join(texts)
        parts.append(f"{option}: {joined}" if option else joined)
    return " ".join(" ".join(parts).split())  # no stray newline may split the line


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."
