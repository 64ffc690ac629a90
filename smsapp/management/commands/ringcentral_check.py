"""Walk the RingCentral configuration step by step and say what to fix; never prints a secret."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from auth_tokens.api import FAIL, OK, SKIP, Credentials, Step, check_token_setup
from smsapp import sender_check
from smsapp.services.optouts import consents_probe


class Command(BaseCommand):
    help = (
        "Check the RingCentral setup step by step: settings, server, client credentials, "
        "login, sender number. Exits non-zero when a step fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fresh-login",
            action="store_true",
            help="log in again even if a valid token is stored, to exercise the credentials",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        creds = Credentials.from_settings()
        from_number = settings.SMS_FROM_NUMBER
        # Steps 1 to 4 are the token's (auth_tokens); the sender number joins step 1's settings
        # and is step 5.
        steps = check_token_setup(
            creds,
            fresh_login=options["fresh_login"],
            other_settings={"SMS_FROM_NUMBER": from_number},
            other_problem=sender_check.settings_problem(from_number),
            purpose=f"sending from {from_number}",
        )
        steps.append(sender_check.sender_step(creds, from_number, login=steps[3]))

        for step in steps:
            self._print(step)
        if steps[3].outcome == OK:
            # Not a step: without the Consents API, sending works and opt-outs are kept here
            # only (docs/ringcentral.md#opt-out). One line, allowed or not.
            self.stdout.write(f"Opt-outs: {consents_probe().sentence()}")
        failed = [step for step in steps if step.outcome == FAIL]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(steps)} checks failed: fix step {failed[0].number} first."
            )
        if creds.grant == "password":
            self.stdout.write(
                self.style.SUCCESS("RingCentral is ready to send SMS")
                + self.style.WARNING(
                    ", with the legacy password grant: move to RINGCENTRAL_JWT (see step 1)."
                )
            )
            return
        self.stdout.write(self.style.SUCCESS("RingCentral is ready to send SMS."))

    def _print(self, step: Step) -> None:
        style = {OK: self.style.SUCCESS, FAIL: self.style.ERROR, SKIP: self.style.WARNING}
        tag = style[step.outcome](f"[{step.outcome}]")
        # Pad outside the colour codes so the columns line up in a terminal too.
        pad = " " * (6 - len(step.outcome) - 2)
        self.stdout.write(f"{tag}{pad} {step.number}. {step.title}: {step.detail}")
        if step.fix:
            self.stdout.write(f"{'':10}fix: {step.fix}")
        for note in step.notes:
            self.stdout.write(f"{'':10}note: {note}")
        for warning in step.warnings:
            self.stdout.write(f"{'':10}" + self.style.WARNING(f"warning: {warning}"))
