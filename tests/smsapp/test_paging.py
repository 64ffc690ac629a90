"""smsapp/paging.py: counts that stay cheap as the table grows (exact up to a bound, the
planner's estimate beyond, said as "about"), and deep pages read by id."""

from __future__ import annotations

import pytest
from django.urls import reverse

from smsapp import paging, selectors
from smsapp.models import Message
from tests.support.tables import add_texts, analyze

pytestmark = pytest.mark.django_db
Status = Message.Status


def test_a_count_up_to_the_bound_is_exact(monkeypatch):
    monkeypatch.setattr(paging, "EXACT_COUNT_UP_TO", 30)
    add_texts(30)
    assert paging.bounded_count(Message.objects.all()) == (30, True)


def test_past_the_bound_the_count_is_the_planners_estimate_and_says_so(monkeypatch):
    monkeypatch.setattr(paging, "EXACT_COUNT_UP_TO", 30)
    add_texts(400)
    analyze()
    count, exact = paging.bounded_count(Message.objects.all())
    assert not exact
    assert 300 <= count <= 500  # the statistics' figure, not the bound it stopped counting at


def test_a_filtered_estimate_follows_the_filter(monkeypatch):
    monkeypatch.setattr(paging, "EXACT_COUNT_UP_TO", 10)
    add_texts(300, status=Status.DELIVERED)
    add_texts(60, status=Status.FAILED)
    analyze()
    count, exact = paging.bounded_count(Message.objects.filter(status=Status.FAILED))
    assert not exact
    assert 40 <= count <= 90


def test_history_says_about_only_when_the_total_is_estimated(monkeypatch, sender_client):
    monkeypatch.setattr(paging, "EXACT_COUNT_UP_TO", 60)
    add_texts(50)
    page = sender_client.get(reverse("smsapp:history")).content.decode()
    assert "Page 1 of 2<" in page

    add_texts(500)
    analyze()
    page = sender_client.get(reverse("smsapp:history")).content.decode()
    assert "Page 1 of about " in page
    older = sender_client.get(reverse("smsapp:history") + "?page=3").content.decode()
    assert "Reminder" in older
    assert "Page 3 of about " in older


def test_a_deep_page_read_by_ids_is_the_same_rows_in_the_same_order(monkeypatch):
    monkeypatch.setattr(paging, "DEEP_PAGE_FROM", 10)
    add_texts(60)
    history = selectors.message_history()
    expected = list(history[25:50])
    page = paging.LargeTablePaginator(history, 25).page(2)
    assert isinstance(page.object_list, list)  # read by ids, not by the OFFSET query
    assert [m.pk for m in page.object_list] == [m.pk for m in expected]
    assert page.object_list[0].created_by_id == expected[0].created_by_id
