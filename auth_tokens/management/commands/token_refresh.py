"""Refresh the RingCentral token now, or with --login log in again; one line either way."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from auth_tokens import humanize
from auth_tokens.credentials import Credentials
from auth_tokens.errors import RingCentralAuthError
from auth_tokens.models import RingCentralToken
from auth_tokens.services import log_in_again, refresh_now


class Command(BaseCommand):
    help = "Refresh the RingCentral access token now (--login: log in again instead)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--login",
            action="store_true",
            help="log in with the configured grant instead of refreshing (lifts a block)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        creds = Credentials.from_settings()
        try:
            if options["login"]:  # an operator's explicit retry also lifts a block
                token = log_in_again(credentials=creds)
            else:
                token = refresh_now(credentials=creds)
        except RingCentralAuthError as error:
            # str(error) is the message and the hint: one line that says what to fix.
            raise CommandError(str(error)) from None
        # A refresh falls back to a login when no usable refresh token is stored: say which.
        row = RingCentralToken.objects.filter(credential_key=creds.key).only("obtained_by").first()
        how = row.get_obtained_by_display() if row else "renewal"
        self.stdout.write(
            f"New {token} by {how} for {creds.describe_user()} @ {creds.server_url}, "
            f"expires {humanize.expiry(token.expires_at)}."
        )
