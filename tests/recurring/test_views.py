"""The recurring-send pages: who may use them, the list in the viewer's zone, create and edit
with a preview of the next five times, errors beside their fields, pause and resume."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from campaigns.services.templates import template_create
from recurring import rules
from recurring.models import Occurrence, RecurringSend
from recurring.services.materialise import recurring_sends_materialise
from recurring.services.sends import RecurringFields, recurring_send_create
from smsapp.models import UserPreferences
from tests.recurring.conftest import NUMBERS
from tests.support.pages import field_errors, page_text

pytestmark = pytest.mark.django_db


def form_data(**changes) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "On-call this week",
        "to": "+1 650 555 0101, (650) 555-0102",
        "text": "You are on call this week.",
        "kind": rules.WEEKDAYS,
        "time_of_day": "09:00",
        "time_zone": "America/New_York",
        "starts_on": f"{timezone.now():%Y-%m-%d}",
        "ends_on": "",
        "action": "save",
        "creation_key": "a-form-key",
    }
    data.update(changes)
    return data


def coming_times(response) -> list[str]:
    page = response.content.decode()
    block = page[page.index('id="coming"') :]
    return re.findall(r'<time datetime="([^"]+)"', block[: block.index("</ol>")])


def test_anonymous_people_sign_in_first_and_non_senders_get_403(client, django_user_model):
    for name in ("recurring:list", "recurring:new"):
        assert client.get(reverse(name)).status_code == 302
    user = django_user_model.objects.create_user("nosend", password="x-long-password-1")
    client.force_login(user)
    assert client.get(reverse("recurring:list")).status_code == 403
    assert client.post(reverse("recurring:new"), form_data()).status_code == 403
    assert not RecurringSend.objects.exists()


def test_the_nav_links_to_the_recurring_sends(sender_client, recurring_settings):
    page = sender_client.get(reverse("smsapp:compose")).content.decode()
    assert f'href="{reverse("recurring:list")}"' in page


def test_the_form_starts_in_the_viewers_zone(sender_client, sender, recurring_settings):
    UserPreferences.objects.create(user=sender, time_zone="Asia/Kolkata")
    page = sender_client.get(reverse("recurring:new")).content.decode()
    assert '<option value="Asia/Kolkata" selected>' in page
    assert 'value="09:00"' in page


def test_preview_shows_the_next_five_times_and_saves_nothing(sender_client, recurring_settings):
    response = sender_client.post(reverse("recurring:new"), form_data(action="preview"))
    assert response.status_code == 200
    times = coming_times(response)
    assert len(times) == 5
    assert not RecurringSend.objects.exists()
    assert "Next 5 times" in page_text(response)


def test_save_lands_on_the_send_with_its_next_five_times(sender_client, sender, recurring_settings):
    response = sender_client.post(reverse("recurring:new"), form_data(), follow=True)
    recurring = RecurringSend.objects.get()
    assert response.redirect_chain[-1][0] == reverse("recurring:detail", args=[recurring.pk])
    assert recurring.to_numbers == list(NUMBERS)
    assert recurring.created_by == sender
    text = page_text(response)
    assert "Every weekday (Mon to Fri) at 09:00 America/New_York" in text
    assert len(coming_times(response)) == 5


def test_the_same_form_posted_twice_makes_one_recurring_send(sender_client, recurring_settings):
    sender_client.post(reverse("recurring:new"), form_data())
    sender_client.post(reverse("recurring:new"), form_data())
    assert RecurringSend.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"to": "+1 650 555 0101, 12"}, "to", "Not a valid phone number"),
        ({"kind": rules.RRULE, "rrule": "FREQ=DAILY;BYHOUR=9"}, "rrule", "Time field"),
        ({"kind": rules.WEEKLY}, "weekdays", "day of the week"),
        ({"time_of_day": "25:00"}, "time_of_day", "valid time"),
        ({"ends_on": "2001-01-01"}, "ends_on", "before the start date"),
        ({"text": ""}, "text", "Write a message"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_saved(
    sender_client, recurring_settings, changes, field, words
):
    response = sender_client.post(reverse("recurring:new"), form_data(**changes))
    assert response.status_code == 200
    assert words in field_errors(response, field)
    assert not RecurringSend.objects.exists()


def test_a_template_fills_an_empty_text(sender_client, recurring_settings):
    template = template_create(name="Closing", text="The office closes at 5 today.", by=None)
    response = sender_client.post(
        reverse("recurring:new"),
        form_data(text="", template=str(template.pk), kind=rules.WEEKLY, weekdays=["4"]),
    )
    assert response.status_code == 302
    recurring = RecurringSend.objects.get()
    assert (recurring.text, recurring.template, recurring.weekdays) == (
        template.text,
        template,
        [4],
    )


def _saved(by: User | None = None, **changes) -> RecurringSend:
    values = {
        "name": "Fridays",
        "to_numbers": list(NUMBERS),
        "text": "Office closes at 5",
        "kind": rules.WEEKLY,
        "weekdays": [4],
        "time_of_day": timezone.now().time().replace(hour=17, minute=0, second=0, microsecond=0),
        "time_zone": "Europe/London",
        "starts_on": date(2026, 1, 1),
    }
    values.update(changes)
    return recurring_send_create(fields=RecurringFields(**values), by=by)


def test_the_list_shows_the_next_time_in_the_viewers_zone_and_the_last_result(
    sender_client, sender, recurring_settings
):
    UserPreferences.objects.create(user=sender, time_zone="Asia/Kolkata")
    recurring = _saved(by=sender)
    Occurrence.objects.create(
        recurring_send=recurring,
        occurs_at=recurring.next_occurrence_at - timedelta(days=7),
        status=Occurrence.Status.SKIPPED,
        reason="missed",
    )
    text = page_text(sender_client.get(reverse("recurring:list")))
    assert "Fridays" in text
    assert "Every week on Fri at 17:00 Europe/London" in text
    nxt = timezone.localtime(recurring.next_occurrence_at, timezone=_zone("Asia/Kolkata"))
    assert f"{nxt:%Y-%m-%d %H:%M} IST" in text
    assert "missed: not sent" in text


def _zone(name: str):
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


def test_edit_shows_the_saved_rules_next_times_and_saves_changes(sender_client, recurring_settings):
    recurring = _saved()
    page = sender_client.get(reverse("recurring:edit", args=[recurring.pk]))
    assert len(coming_times(page)) == 5
    response = sender_client.post(
        reverse("recurring:edit", args=[recurring.pk]),
        form_data(name="Fridays at four", kind=rules.WEEKLY, weekdays=["4"], time_of_day="16:00"),
    )
    assert response.status_code == 302
    recurring.refresh_from_db()
    assert (recurring.name, recurring.time_of_day.hour) == ("Fridays at four", 16)
    assert RecurringSend.objects.count() == 1


def test_pause_and_resume_from_the_page_each_once(sender_client, recurring_settings):
    recurring = _saved()
    pause = reverse("recurring:action", args=[recurring.pk, "pause"])
    first = sender_client.post(pause, follow=True)
    assert "paused: no more texts are made" in page_text(first)
    assert "was already paused" in page_text(sender_client.post(pause, follow=True))
    recurring.refresh_from_db()
    assert recurring.paused
    page = page_text(first)
    assert "Paused: nothing is sent until it is resumed." in page
    assert "Next 5 times" not in page
    resume = reverse("recurring:action", args=[recurring.pk, "resume"])
    sender_client.post(resume)
    recurring.refresh_from_db()
    assert not recurring.paused


def test_an_unknown_action_or_send_is_not_found(sender_client, recurring_settings):
    recurring = _saved()
    assert (
        sender_client.post(reverse("recurring:action", args=[recurring.pk, "delete"])).status_code
        == 404
    )
    assert sender_client.post(reverse("recurring:action", args=[999, "pause"])).status_code == 404
    assert sender_client.get(reverse("recurring:detail", args=[999])).status_code == 404
    assert (
        sender_client.get(reverse("recurring:action", args=[recurring.pk, "pause"])).status_code
        == 405
    )


def test_the_detail_page_lists_past_times_with_their_texts(sender_client, recurring_settings):
    at = timezone.now() + timedelta(seconds=20)
    recurring = _saved(
        kind=rules.DAILY,
        weekdays=[],
        time_zone="UTC",
        time_of_day=at.time().replace(microsecond=0),
        starts_on=at.date(),
    )
    recurring_sends_materialise()
    page = sender_client.get(reverse("recurring:detail", args=[recurring.pk])).content.decode()
    assert "texts created" in page
    for number in NUMBERS:
        assert number in page
    assert reverse("smsapp:detail", args=[recurring_send_message_id(recurring)]) in page


def recurring_send_message_id(recurring: RecurringSend) -> int:
    from smsapp.models import Message

    key = Occurrence.objects.get(recurring_send=recurring).submission_key
    return Message.objects.filter(submission_key=key).order_by("id").first().pk
