"""A message table big enough for PostgreSQL's planner to choose, and the plans it chooses."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import connection

from smsapp.models import Message


def add_texts(
    count: int, *, status: str = Message.Status.DELIVERED, by: User | None = None, **fields
):
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
        cursor.execute(f"SET LOCAL enable_indexscan = {'off' if only_by_condition else 'on'}")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())
