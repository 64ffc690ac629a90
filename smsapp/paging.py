"""Pages over the message table that cost the same at a thousand texts and at a million.

Django's Paginator counts every matching row (`SELECT COUNT(*)`) on each page view: at a
million texts that is a scan of the whole table, 120 ms on the bench machine, before any row
is shown (bench/history_bench.py). Nobody reads "page 1 of 40,000" as an exact figure, so past
EXACT_COUNT_UP_TO rows the total is PostgreSQL's own estimate for the query (its planner's row
count: no rows are read), and the pages say "about". Below it the count is exact and cheap: it
stops after EXACT_COUNT_UP_TO + 1 rows of an index.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet

# Counting this many index entries takes a few milliseconds; a history this short is also one
# whose exact size someone might want to read.
EXACT_COUNT_UP_TO = 10_000
# Past this many rows, a page is found by its ids first (see LargeTablePaginator.page).
DEEP_PAGE_FROM = 1_000


def bounded_count(queryset: QuerySet[Any]) -> tuple[int, bool]:
    """(rows matching `queryset`, whether that is exact): exact up to EXACT_COUNT_UP_TO, the
    planner's estimate beyond (never less than what was counted)."""
    if connections[queryset.db].vendor != "postgresql":
        # SQLite serves quick local runs only (settings): small tables, and no EXPLAIN to ask.
        return queryset.count(), True
    counted = queryset.order_by()[: EXACT_COUNT_UP_TO + 1].count()
    if counted <= EXACT_COUNT_UP_TO:
        return counted, True
    return max(planner_estimate(queryset), counted), False


def planner_estimate(queryset: QuerySet[Any]) -> int:
    """PostgreSQL's estimate of the rows `queryset` matches, from EXPLAIN (plans, reads none).

    Good to a few percent for the history's filters (status, days, a number), which the
    table's statistics describe; ANALYZE (autovacuum) keeps them current as the table grows."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # the driver hands json over parsed or as text, by version
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class LargeTablePaginator(Paginator):
    """A Paginator whose count is `bounded_count` (`count_is_exact` says which kind it is),
    and whose deep pages skip their OFFSET on ids alone.

    A deep page still costs its OFFSET: page 500 skips 12,475 rows. Skipped as whole rows
    joined to their sender, that was 28 ms at a million texts; skipped as ids, from the index
    the order comes from, it is a few ms, and the page's 25 rows are then read by id. The
    history's day filter and the admin's date filter are the way to texts from long ago."""

    count_is_exact = True

    @cached_property
    def count(self) -> int:
        count, self.count_is_exact = bounded_count(self.object_list)
        return count

    def page(self, number: Any) -> Page:
        page = super().page(number)
        rows = page.object_list
        if not isinstance(rows, QuerySet) or page.start_index() <= DEEP_PAGE_FROM:
            return page
        ids = list(rows.values_list("pk", flat=True))
        by_id = self.object_list.in_bulk(ids)
        page.object_list = [by_id[pk] for pk in ids if pk in by_id]
        return page
