"""Create (or reset) a staff login for trying the app locally; prints its fresh password."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandParser

STAFF_SENDERS = "Staff senders"


class Command(BaseCommand):
    help = (
        "Create or reset a local demo staff login with a new random password (printed). "
        "For local runs only: scripts/run calls it; never use it in a deployment."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="demo")

    def handle(self, *args: Any, **options: Any) -> None:
        # A new random password every run: nothing guessable ever exists, even locally.
        password = secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(username=options["username"])
        user.set_password(password)
        user.is_staff = True  # to see the RingCentral token status in the admin
        user.save()
        user.groups.add(Group.objects.get(name=STAFF_SENDERS))
        user.user_permissions.add(
            Permission.objects.get(
                content_type__app_label="auth_tokens", codename="view_ringcentraltoken"
            )
        )
        self.stdout.write(f"{user.get_username()} {password}")
