"""Recurring sends from the command line: create one (validated as the web form does), list
them, pause or resume one."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from recurring import rules
from recurring.forms import RecurringSendForm
from recurring.models import RecurringSend
from recurring.services import sends
from smsapp.middleware import zone_named
from smsapp.validation import SUBMISSION_KEY_RULE

# Form field -> the option a person typed, so an error names what they can fix.
OPTION_FOR_FIELD = {
    "name": "--name",
    "to": "--to",
    "text": "--text",
    "kind": "--every",
    "weekdays": "--on",
    "month_day": "--day",
    "rrule": "--rrule",
    "time_of_day": "--at",
    "time_zone": "--zone",
    "starts_on": "--start",
    "ends_on": "--end",
}
DAY_CODES = {name[:2].upper(): index for index, name in enumerate(rules.DAY_NAMES)}
EVERY = {
    "day": rules.DAILY,
    "weekday": rules.WEEKDAYS,
    "week": rules.WEEKLY,
    "month": rules.MONTHLY,
}


class Command(BaseCommand):
    help = (
        "Recurring sends: `create` one (prints its id, then its next five times in UTC), "
        "`list` them, `pause ID` or `resume ID`. Bad input: one line on stderr, nothing saved."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a recurring send")
        create.add_argument("--name", required=True, help="what it is for")
        create.add_argument(
            "--to", action="append", required=True, metavar="NUMBER", help="E.164; repeat"
        )
        create.add_argument("--text", required=True)
        create.add_argument(
            "--every",
            choices=[*EVERY, "rrule"],
            help="day, weekday (Mon to Fri), week (with --on), month (with --day); or give --rrule",
        )
        create.add_argument("--on", metavar="DAYS", help="for --every week: MO,TH")
        create.add_argument("--day", type=int, help="for --every month: 1 to 31")
        create.add_argument(
            "--rrule", help="an RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1"
        )
        create.add_argument("--at", required=True, metavar="HH:MM", help="local time of day")
        create.add_argument(
            "--zone", required=True, help="IANA time zone the time is in: America/New_York"
        )
        create.add_argument("--start", metavar="YYYY-MM-DD", help="default: today in --zone")
        create.add_argument("--end", metavar="YYYY-MM-DD", help="the last day it may fire")
        create.add_argument("--owner", metavar="USERNAME", help="who it belongs to")
        create.add_argument(
            "--key",
            help=f"an idempotency key ({SUBMISSION_KEY_RULE}): run again with it and nothing "
            "new is created, the first run's id is printed again",
        )
        actions.add_parser("list", help="every recurring send, one per line")
        for name in ("pause", "resume"):
            action = actions.add_parser(name, help=f"{name} a recurring send")
            action.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "list":
            self._list()
        else:
            recurring = RecurringSend.objects.filter(pk=options["id"]).first()
            if recurring is None:
                raise CommandError(f"No recurring send #{options['id']}.")
            change = (
                sends.recurring_send_pause if action == "pause" else sends.recurring_send_resume
            )
            done = change(recurring=recurring, by=None)
            state = "paused" if recurring.paused else "active"
            self.stdout.write(f"#{recurring.pk} {state}{'' if done else ' (no change)'}")

    def _create(self, options: dict[str, Any]) -> None:
        kind = rules.RRULE if options["rrule"] else EVERY.get(options["every"] or "", "")
        if not kind:
            raise CommandError("--every: Give --every day|weekday|week|month, or --rrule.")
        zone = options["zone"]
        data = {
            "name": options["name"],
            "to": "\n".join(options["to"]),
            "text": options["text"],
            "kind": kind,
            "weekdays": _days(options["on"]),
            "month_day": "" if options["day"] is None else str(options["day"]),
            "rrule": options["rrule"] or "",
            "time_of_day": options["at"],
            "time_zone": zone,
            "starts_on": options["start"] or _today_in(zone),
            "ends_on": options["end"] or "",
        }
        form = RecurringSendForm(data=data, zone_name=zone, today=timezone.localdate())
        if not form.is_valid():
            raise CommandError(_one_line(form.errors.get_json_data()))
        owner = _owner(options["owner"])
        try:
            recurring = sends.recurring_send_create(
                fields=form.recurring_fields(), by=owner, key=options["key"]
            )
        except ValidationError as error:
            raise CommandError(_one_line(error.message_dict)) from None
        self.stdout.write(str(recurring.pk))
        for occurrence in rules.next_occurrences(recurring.spec(), timezone.now(), 5):
            self.stdout.write(
                f"  {occurrence.at:%Y-%m-%dT%H:%M:%SZ}  ({occurrence.local:%Y-%m-%d %H:%M %Z})"
            )

    def _list(self) -> None:
        for r in RecurringSend.objects.all():
            nxt = f"{r.next_occurrence_at:%Y-%m-%dT%H:%M:%SZ}" if r.next_occurrence_at else "ended"
            state = "paused" if r.paused else "active"
            self.stdout.write(f"{r.pk}\t{state}\t{nxt}\t{r.name}\t{r.rule_text}")


def _days(raw: str | None) -> list[str]:
    if not raw:
        return []
    days = []
    for part in raw.replace(" ", "").upper().split(","):
        if part[:2] not in DAY_CODES:
            raise CommandError(f"--on: “{part}” is not a day: use MO,TU,WE,TH,FR,SA,SU.")
        days.append(str(DAY_CODES[part[:2]]))
    return days


def _today_in(zone: str) -> str:
    found = zone_named(zone)
    return f"{timezone.now().astimezone(found):%Y-%m-%d}" if found else ""


def _owner(username: str | None) -> Any:
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"--owner: No user named “{username}”.")
    return user


def _one_line(errors: dict[str, list[Any]]) -> str:
    """Every problem on one line, each prefixed with the option it is about."""
    parts = []
    for field, problems in errors.items():
        texts = [str(p["message"] if isinstance(p, dict) else p).strip() for p in problems]
        option = OPTION_FOR_FIELD.get(field)
        joined = " ".join(texts)
        parts.append(f"{option}: {joined}" if option else joined)
    return " ".join(" ".join(parts).split())
