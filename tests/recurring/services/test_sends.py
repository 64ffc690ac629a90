"""Creating, editing, pausing and resuming a recurring send: the rules, by field, and where it
fires next after each change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.services.templates import template_create
from recurring import rules
from recurring.models import RecurringSend
from recurring.services.sends import (
    RecurringFields,
    recurring_send_create,
    recurring_send_pause,
    recurring_send_resume,
    recurring_send_update,
)
from smsapp.models import OptOut
from smsapp.services.optouts import optout_add
from tests.recurring.conftest import FROM, NUMBERS

pytestmark = pytest.mark.django_db


def weekdays_at_nine(**changes) -> RecurringFields:
    values = {
        "name": "On-call this week",
        "to_numbers": list(NUMBERS),
        "text": "You are on call this week.",
        "kind": rules.WEEKDAYS,
        "time_of_day": time(9),
        "time_zone": "America/New_York",
        "starts_on": date(2026, 11, 2),
    }
    values.update(changes)
    return RecurringFields(**values)


NOW = datetime(2026, 11, 5, 12, tzinfo=UTC)  # Thursday, 07:00 in New York


def test_a_new_send_fires_first_at_its_next_time_from_now(recurring_settings, sender):
    recurring = recurring_send_create(fields=weekdays_at_nine(), by=sender, now=NOW)
    assert recurring.created_by == sender
    assert not recurring.paused
    # Thursday 09:00 EST; the Monday to Wednesday before it are not made up for.
    assert recurring.next_occurrence_at == datetime(2026, 11, 5, 14, tzinfo=UTC)


def test_the_same_creation_key_makes_one_send(recurring_settings):
    first = recurring_send_create(fields=weekdays_at_nine(), by=None, key="form-1", now=NOW)
    again = recurring_send_create(fields=weekdays_at_nine(), by=None, key="form-1", now=NOW)
    assert again.pk == first.pk
    assert RecurringSend.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "  "}, "name", "Give the recurring send a name"),
        ({"to_numbers": []}, "to", "at least one phone number"),
        ({"to_numbers": ["12"]}, "to", "Not a valid phone number"),
        ({"text": ""}, "text", "Write a message"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a time zone"),
        ({"kind": rules.WEEKLY}, "weekdays", "day of the week"),
        ({"kind": rules.MONTHLY, "month_day": None}, "month_day", "from 1 to 31"),
        ({"kind": rules.RRULE, "rrule": "FREQ=HOURLY"}, "rrule", "FREQ must be"),
        ({"ends_on": date(2026, 11, 1)}, "ends_on", "before the start date"),
        ({"ends_on": date(2026, 11, 4)}, "ends_on", "never fires from now on"),
    ],
)
def test_each_refusal_is_under_its_field_and_nothing_is_saved(
    recurring_settings, changes, field, words
):
    with pytest.raises(ValidationError) as refused:
        recurring_send_create(fields=weekdays_at_nine(**changes), by=None, now=NOW)
    assert words in " ".join(refused.value.message_dict[field])
    assert not RecurringSend.objects.exists()


def test_a_number_that_opted_out_is_refused_by_name(recurring_settings):
    optout_add(our_number=FROM, their_number=NUMBERS[1], source=OptOut.Source.STAFF)
    with pytest.raises(ValidationError) as refused:
        recurring_send_create(fields=weekdays_at_nine(), by=None, now=NOW)
    assert NUMBERS[1] in " ".join(refused.value.message_dict["to"])


def test_a_templates_placeholders_must_be_replaced(recurring_settings):
    template = template_create(name="Greeting", text="Hi {first_name}, on call!", by=None)
    with pytest.raises(ValidationError) as refused:
        recurring_send_create(
            fields=weekdays_at_nine(template=template, text=template.text), by=None, now=NOW
        )
    assert "{first_name}" in " ".join(refused.value.message_dict["text"])
    saved = recurring_send_create(
        fields=weekdays_at_nine(template=template, text="Hi all, on call!"), by=None, now=NOW
    )
    assert (saved.template, saved.text) == (template, "Hi all, on call!")


def test_an_edit_fires_next_at_the_new_rules_next_time(recurring_settings):
    recurring = recurring_send_create(fields=weekdays_at_nine(), by=None, now=NOW)
    recurring_send_update(
        recurring=recurring,
        fields=weekdays_at_nine(kind=rules.WEEKLY, weekdays=[0], time_of_day=time(8, 30)),
        by=None,
        now=NOW,
    )
    recurring.refresh_from_db()
    assert (recurring.kind, recurring.weekdays) == (rules.WEEKLY, [0])
    assert recurring.next_occurrence_at == datetime(2026, 11, 9, 13, 30, tzinfo=UTC)  # Mon EST


def test_resuming_starts_from_the_next_time_after_now_not_the_ones_paused_over(
    recurring_settings,
):
    recurring = recurring_send_create(fields=weekdays_at_nine(), by=None, now=NOW)
    assert recurring_send_pause(recurring=recurring, by=None)
    assert not recurring_send_pause(recurring=recurring, by=None)  # twice: harmless
    a_week_later = NOW + timedelta(days=7)
    assert recurring_send_resume(recurring=recurring, by=None, now=a_week_later)
    assert not recurring_send_resume(recurring=recurring, by=None, now=a_week_later)
    recurring.refresh_from_db()
    assert not recurring.paused
    assert recurring.next_occurrence_at == datetime(2026, 11, 12, 14, tzinfo=UTC)


def test_the_next_time_of_a_new_send_is_never_in_the_past(recurring_settings):
    now = timezone.now()
    recurring = recurring_send_create(
        fields=weekdays_at_nine(kind=rules.DAILY, starts_on=date(2020, 1, 1)), by=None
    )
    assert now <= recurring.next_occurrence_at <= now + timedelta(days=1)
