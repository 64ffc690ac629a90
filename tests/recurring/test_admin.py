"""The admin: recurring sends and their times to look at, pause and resume as actions, no edits
by hand."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recurring.models import RecurringSend
from tests.recurring.test_views import _saved

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_sender_client(client, sender):
    sender.is_staff = True
    sender.save()
    client.force_login(sender)
    return client


def test_a_staff_sender_sees_the_list_and_pauses_from_it_but_edits_nothing(
    staff_sender_client, recurring_settings
):
    recurring = _saved()
    changelist = reverse("admin:recurring_recurringsend_changelist")
    page = staff_sender_client.get(changelist)
    assert page.status_code == 200
    assert "Every week on Fri at 17:00 Europe/London" in page.content.decode()
    response = staff_sender_client.post(
        changelist, {"action": "pause", "_selected_action": [recurring.pk]}, follow=True
    )
    assert "1 paused." in response.content.decode()
    recurring.refresh_from_db()
    assert recurring.paused
    assert staff_sender_client.get(reverse("admin:recurring_recurringsend_add")).status_code == 403
    change = reverse("admin:recurring_recurringsend_change", args=[recurring.pk])
    staff_sender_client.post(change, {"name": "Renamed"})
    assert RecurringSend.objects.get().name == "Fridays"
    assert (
        staff_sender_client.get(reverse("admin:recurring_occurrence_changelist")).status_code == 200
    )
