"""Lists over the message table stay cheap as it grows: bounded counts, the indexes the
history's and the admin's queries use, distinct values by index, exact admin search."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.urls import reverse

from smsapp import paging, selectors
from smsapp.models import Message

pytestmark = pytest.mark.django_db
Status = Message.Status


def add_texts(count: int, *, status: str = Status.DELIVERED, by: User | None = None, **fields):
    Message.objects.bulk_create(
        Message(
            to_number=fields.get("to_number", f"+1650555{n % 10_000:04d}"),
            from_number=fields.get("from_number", "+16505550100"),
            text=f"Reminder {n}",
            status=status,
            created_by=by,
        )
        for n in range(count)
    )


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE smsapp_message")


def plan_of(queryset, *, only_by_condition: bool = False) -> str:
    """The plan PostgreSQL would pick with table scans priced out: a tiny test table would
    otherwise always be scanned whole, which says nothing about which index fits the query.
    `only_by_condition` also prices out walking a whole b-tree: what is left must find the
    rows by the query's condition."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if only_by_condition:
            cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


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


@pytest.mark.parametrize(
    ("criteria", "index"),
    [
        ({}, "sms_history"),
        ({"status": Status.FAILED}, "sms_history_by_status"),
        ({"recipient": "+16505550101"}, "sms_history_by_recipient"),
    ],
)
def test_each_history_page_is_read_in_order_from_an_index(criteria, index):
    add_texts(200)
    analyze()
    plan = plan_of(selectors.message_history(**criteria)[:25])
    assert index in plan, plan
    assert "Sort" not in plan, plan  # read in order from the index, not sorted afterwards


def test_digits_of_a_number_are_found_by_the_trigram_index_not_a_scan():
    add_texts(200)
    analyze()
    # Unordered: what the page's bounded count asks, and what a rare number's page costs
    # (walking the history newest first would read every text to find none).
    query = selectors.message_history(recipient="5550101").order_by()
    plan = plan_of(query, only_by_condition=True)
    assert "Bitmap Index Scan on sms_recipient_digits" in plan, plan


def test_distinct_values_walk_the_index(django_user_model):
    ann = django_user_model.objects.create(username="ann")
    bob = django_user_model.objects.create(username="bob")
    add_texts(20, by=bob, from_number="+16505550199")
    add_texts(20, by=ann)
    add_texts(5)  # created by a script: no person
    assert selectors.distinct_message_values("from_number") == ["+16505550100", "+16505550199"]
    assert selectors.distinct_message_values("created_by") == sorted([ann.pk, bob.pk])


@pytest.fixture
def admin_client_logged_in(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", password="x" * 20))
    return client


def test_admin_search_matches_a_number_as_typed_or_its_digits_an_id_and_a_ringcentral_id(
    admin_client_logged_in,
):
    add_texts(3, to_number="+16505550101")
    add_texts(3, to_number="+16505550177")
    other = Message.objects.filter(to_number="+16505550177").first()
    Message.objects.filter(pk=other.pk).update(provider_message_id="99001")
    url = reverse("admin:smsapp_message_changelist")

    def found(term: str) -> set[int]:
        response = admin_client_logged_in.get(url, {"q": term})
        return {m.pk for m in response.context["cl"].result_list}

    to_0101 = set(Message.objects.filter(to_number="+16505550101").values_list("pk", flat=True))
    assert found("(650) 555-0101") == to_0101
    assert found(f"#{other.pk}") == {other.pk}
    assert found("99001") == {other.pk}
    to_0177 = set(Message.objects.filter(to_number="+16505550177").values_list("pk", flat=True))
    assert found("0177") == to_0177  # some digits, as in the history's filter
    assert found("Reminder") == set()  # not a number, an id or a RingCentral id


def test_admin_list_says_about_when_estimated_and_filters_by_who_sent(
    monkeypatch, admin_client_logged_in, django_user_model
):
    monkeypatch.setattr(paging, "EXACT_COUNT_UP_TO", 30)
    ann = django_user_model.objects.create(username="ann")
    add_texts(300, by=ann)
    add_texts(10)
    analyze()
    url = reverse("admin:smsapp_message_changelist")
    page = admin_client_logged_in.get(url).content.decode()
    assert re.search(r"about \d+ messages", page)

    response = admin_client_logged_in.get(url, {"created_by__id__exact": ann.pk})
    assert response.context["cl"].result_count >= 250
    assert all(m.created_by_id == ann.pk for m in response.context["cl"].result_list)
    changelist = response.context["cl"]
    choices = [c["display"] for spec in changelist.filter_specs for c in spec.choices(changelist)]
    assert "ann" in choices
    assert "boss" not in choices


def test_a_deep_page_read_by_ids_is_the_same_rows_in_the_same_order(monkeypatch):
    monkeypatch.setattr(paging, "DEEP_PAGE_FROM", 10)
    add_texts(60)
    history = selectors.message_history()
    expected = list(history[25:50])
    page = paging.LargeTablePaginator(history, 25).page(2)
    assert isinstance(page.object_list, list)  # read by ids, not by the OFFSET query
    assert [m.pk for m in page.object_list] == [m.pk for m in expected]
    assert page.object_list[0].created_by_id == expected[0].created_by_id


def test_admin_search_conditions_each_use_their_index():
    add_texts(200)
    analyze()
    from django.contrib import admin

    search = admin.site._registry[Message].get_search_results
    for term in ("650 555 0101", "0101", "12"):
        found, _ = search(None, Message.objects.all(), term)
        # An OR of plain conditions is a BitmapOr of index scans; an OR with a subquery in
        # it (what the first version did) filters every row of the table instead.
        assert "BitmapOr" in plan_of(found, only_by_condition=True), term
