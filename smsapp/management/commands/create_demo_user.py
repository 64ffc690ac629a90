"""Create a staff login for trying the app locally; prints its name and password."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandParser

from smsapp.permissions import STAFF_SENDERS_GROUP


class Command(BaseCommand):
    help = (
        "Create a local demo staff login and print its name and password. With "
        "--password-file, the password is kept there (made at random the first time), so it "
        "stays the same across runs. For local runs only: scripts/run calls it; never use it in "
        "a deployment."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password-file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        password = _kept_password(options["password_file"])
        user, _ = get_user_model().objects.get_or_create(username=options["username"])
        # Setting the same password again would still sign everyone out (a new hash means a
        # new session hash): only set it when it differs.
        if not user.check_password(password):
            user.set_password(password)
        user.is_staff = True  # to see the RingCentral token status in the admin
        user.save()
        user.groups.add(Group.objects.get(name=STAFF_SENDERS_GROUP))
        # What a small team's one admin does, so every page of the demo can be tried: the token
        # status and its history, the opt-out list (and changing it), templates, the dashboard
        # (which asks to view texts and the token).
        for app_label, codename in DEMO_PERMISSIONS:
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        self.stdout.write(f"{user.get_username()} {password}")


DEMO_PERMISSIONS = (
    ("auth_tokens", "view_ringcentraltoken"),
    ("auth_tokens", "view_tokenevent"),
    ("smsapp", "view_message"),
    ("smsapp", "view_optout"),
    ("smsapp", "manage_optouts"),
    ("campaigns", "manage_templates"),
)


def _kept_password(path: Path | None) -> str:
    """Random, never guessable; kept in a file only readable by its owner when one is given."""
    if path is not None and path.is_file():
        kept = path.read_text().strip()
        if kept:
            return kept
    password = secrets.token_urlsafe(9)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(password + "\n")
    return password
