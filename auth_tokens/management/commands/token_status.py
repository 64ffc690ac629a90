"""Print the health of the configured RingCentral credential set, in words or as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from auth_tokens import humanize
from auth_tokens.credentials import Credentials
from auth_tokens.models import RingCentralToken
from auth_tokens.status import TokenStatusReport, token_status

_OBTAINED = dict(RingCentralToken.Obtained.choices)


class Command(BaseCommand):
    help = "Show the RingCentral token status of the configured credential set (a report: exit 0)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON only, for scripts")

    def handle(self, *args: Any, **options: Any) -> None:
        creds = Credentials.from_settings()
        status = token_status(credentials=creds)
        if options["json"]:
            self.stdout.write(json.dumps(status.as_json()))
            return
        for label, value in _lines(status, creds):
            self.stdout.write(f"{label + ':':<17} {value}")


def _lines(status: TokenStatusReport, creds: Credentials) -> list[tuple[str, str]]:
    grant = creds.grant
    if grant == "password":
        # The password grant is end-of-life (docs/ringcentral.md#password-grant): say so
        # wherever it shows.
        grant += " (end-of-life: RingCentral retired it in favour of JWT; set RINGCENTRAL_JWT)"
    error = status.last_error
    lines = [
        ("State", f"{status.summary} [{status.state}]"),
        ("Server", creds.describe_server()),
        ("User", creds.describe_user() or "none"),
        ("Grant", grant),
        ("Access expires", _at(status.access_expires_at, humanize.expiry)),
        ("Refresh expires", _at(status.refresh_expires_at, humanize.expiry)),
        ("Last refresh", _at(status.last_refresh_at, humanize.ago)),
        ("Last login", _at(status.last_login_at, humanize.ago)),
        ("Obtained by", _OBTAINED.get(status.obtained_by, status.obtained_by) or "none"),
    ]
    if status.throttled_until:
        lines.append(("Throttled until", _at(status.throttled_until, humanize.expiry)))
    if error:
        code = f"{error['code']}: " if error["code"] else ""
        lines.append(("Last error", f"{code}{error['message']} ({humanize.ago(error['at'])})"))
        if error["hint"]:
            lines.append(("What to do", error["hint"]))
    else:
        lines.append(("Last error", "none"))
    lines += [
        ("Counters", f"{status.refresh_count} refreshes, {status.login_count} logins"),
        (
            "Fingerprints",
            f"access {status.access_fingerprint}, refresh {status.refresh_fingerprint}",
        ),
    ]
    return lines


def _at(when: Any, relative: Any) -> str:
    if when is None:
        return relative(None)
    return f"{humanize.stamp(when)} ({relative(when)})"
