"""Fixtures for the recurring-send tests: a sender number, and rules that fall due soon."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from recurring import rules
from recurring.models import RecurringSend
from recurring.services.sends import RecurringFields, recurring_send_create

FROM = "+16505550100"
NUMBERS = ("+16505550101", "+16505550102")


@pytest.fixture
def recurring_settings(settings):
    settings.SMS_FROM_NUMBER = FROM
    # A dispatcher horizon of 30 s, so the materialiser looks 60 s ahead: a rule due in 20 s
    # is made on the first run.
    settings.SMS_DISPATCH_INTERVAL = 20.0
    settings.SMS_RECURRING_MISSED_GRACE_SECONDS = 300.0
    return settings


def fields_at(at: datetime, **changes) -> RecurringFields:
    """A daily rule in UTC firing at `at`'s time of day, starting on its day."""
    values = {
        "name": "Stand-up reminder",
        "to_numbers": list(NUMBERS),
        "text": "Stand-up in 5 minutes",
        "kind": rules.DAILY,
        "time_of_day": at.astimezone(UTC).time(),
        "time_zone": "UTC",
        "starts_on": at.astimezone(UTC).date(),
    }
    values.update(changes)
    return RecurringFields(**values)


@pytest.fixture
def due_soon(recurring_settings, db) -> Callable[..., RecurringSend]:
    """A daily rule whose next time is `seconds` from now (default 20), saved `ago` earlier."""

    def make(seconds: float = 20, *, by=None, created_ago: timedelta | None = None, **changes):
        at = (timezone.now() + timedelta(seconds=seconds)).replace(microsecond=0)
        now = timezone.now() - created_ago if created_ago else None
        return recurring_send_create(fields=fields_at(at, **changes), by=by, now=now)

    return make
