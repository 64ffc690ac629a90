"""History benchmark: the staff pages and the admin with a realistic history (a million texts
over two years from 20 senders), p50/p95 per page, the slowest query of each and its plan.

Run from the project root after ./scripts/test has made .venv (PostgreSQL running):

    .venv/bin/python bench/history_bench.py [--rows 1000000] [--requests 20] [--keep]

It uses its own PostgreSQL database (BENCH_HISTORY_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/smsapp_bench_history). Filling a million rows (and two events
each) takes a few minutes; --keep reuses a database filled by an earlier run. The aim (issue
11): every page under 50 ms p50, no COUNT(*) over the whole table, indexes the plans use.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.databases import open_bench_database  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smsapp_bench_history"
AIM_MS = 50.0
STATUSES = ["delivered"] * 80 + ["sent"] * 10 + ["failed"] * 7 + ["canceled"] * 3


def fill(rows: int) -> None:
    """`rows` texts spread over two years, newest now, 20 senders, two events each."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from smsapp.models import Message, MessageEvent
    from smsapp.permissions import STAFF_SENDERS_GROUP

    users = []
    for n in range(20):
        user, _ = get_user_model().objects.get_or_create(username=f"sender{n}")
        user.groups.add(Group.objects.get(name=STAFF_SENDERS_GROUP))
        users.append(user)
    now = timezone.now()
    span = timedelta(days=730).total_seconds()
    rng = random.Random(11)
    batch = 10_000
    started = time.perf_counter()
    for first in range(0, rows, batch):
        count = min(batch, rows - first)
        with transaction.atomic():
            messages = Message.objects.bulk_create(
                [
                    Message(
                        to_number=f"+1650{rng.randrange(10**7):07d}",
                        from_number="+16505550100",
                        text=f"Your appointment is confirmed (#{first + i})",
                        created_by=users[(first + i) % 20],
                        status=rng.choice(STATUSES),
                        provider_message_id=str(10**12 + first + i),
                        attempts=1,
                    )
                    for i in range(count)
                ]
            )
            MessageEvent.objects.bulk_create(
                [
                    MessageEvent(message=m, status=status, description=status.title())
                    for m in messages
                    for status in ("queued", m.status)
                ]
            )
        # Spread over two years, oldest first (auto_now_add stamped them all "now").
        with connection.cursor() as cursor:
            # Text number k (0 = oldest) of all `rows` is k/rows of the way from two years ago.
            cursor.execute(
                "UPDATE smsapp_message SET created_at = %s - make_interval(secs => "
                "(%s - (%s + id - %s)) * %s), updated_at = created_at WHERE id >= %s AND id < %s",
                [
                    now,
                    rows,
                    first,
                    messages[0].pk,
                    span / rows,
                    messages[0].pk,
                    messages[0].pk + count,
                ],
            )
        done = first + count
        if done % 100_000 == 0 or done == rows:
            print(f"  filled {done:,} of {rows:,} ({time.perf_counter() - started:.0f} s)")


def vacuum() -> None:
    """What autovacuum does to a table that has grown: statistics for the planner and a
    visibility map, without which no index-only scan is worth it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE smsapp_message")
        cursor.execute("VACUUM ANALYZE smsapp_messageevent")


def measure(client, url: str, requests: int) -> tuple[float, float, str, int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: templates, the connection
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    reads = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    slowest = max(reads, key=lambda q: float(q["time"]))
    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    ordered = sorted(samples)
    p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
    return statistics.median(samples), p95, slowest["sql"], len(queries.captured_queries), sql_ms


def plan(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}")
        return [row[0] for row in cursor.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="reuse an already filled database")
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_HISTORY_DATABASE_URL", DEFAULT_DB)
    reuse = open_bench_database(db_url, keep=args.keep)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from smsapp.models import Message

    if not reuse:
        print(f"Filling {args.rows:,} texts over two years, 20 senders ...")
        fill(args.rows)
    vacuum()
    total = Message.objects.count()
    admin, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    staff = Client()
    staff.force_login(get_user_model().objects.get(username="sender0"))
    boss = Client()
    boss.force_login(admin)
    newest = Message.objects.order_by("-id").values_list("id", flat=True)[:50]
    some_day = (
        Message.objects.order_by("-id").values_list("created_at", flat=True)[
            200_000 if total > 200_000 else total // 2
        ]
    ).date()
    middle = Message.objects.order_by("-id").values_list("id", flat=True)[total // 2]
    someone = Message.objects.filter(pk=middle).values_list("to_number", flat=True).get()
    sender_id = get_user_model().objects.get(username="sender3").pk
    # Each page is measured beside a baseline from the same run: the same sign-in, middleware,
    # banner and layout, and no texts on it. What a page costs beyond its baseline is what the
    # texts cost; the baseline is what any page of its kind costs on this machine.
    staff_base, admin_base = "staff baseline: compose", "admin baseline: no match"
    pages = [
        (staff_base, staff, "/compose/"),
        ("history, first page", staff, "/messages/"),
        ("history, status=failed", staff, "/messages/?status=failed"),
        ("history, one day", staff, f"/messages/?day_from={some_day}&day_to={some_day}"),
        ("history, page 500", staff, "/messages/?page=500"),
        ("status poll, 50 ids", staff, "/messages/status.json?ids=" + ",".join(map(str, newest))),
        ("detail page", staff, f"/messages/{middle}/"),
        ("history, to a number", staff, f"/messages/?recipient={someone[2:]}"),
        ("history, digits 5550123", staff, "/messages/?recipient=5550123"),
        (admin_base, boss, "/admin/smsapp/message/?q=%2B19999999999"),
        ("admin message list", boss, "/admin/smsapp/message/"),
        ("admin, status failed", boss, "/admin/smsapp/message/?status__exact=failed"),
        ("admin, one sender", boss, f"/admin/smsapp/message/?created_by__id__exact={sender_id}"),
        ("admin search, a number", boss, f"/admin/smsapp/message/?q={someone[2:]}"),
    ]
    print(
        f"\n{total:,} texts; {args.requests} requests per page, p50/p95 in ms "
        f"(aim: p50 under {AIM_MS:.0f} ms)\n"
    )
    header = (
        f"{'page':<26} | {'p50 ms':>7} | {'p95 ms':>7} | {'x base':>6} | {'SQL':>3} "
        f"| {'SQL ms':>6} | {'aim':>4}"
    )
    print(header)
    print("-" * len(header))
    plans = []
    baseline = 0.0
    for name, client, url in pages:
        p50, p95, sql, count, sql_ms = measure(client, url, args.requests)
        if name in (staff_base, admin_base):
            baseline = p50
        aim = "ok" if p50 < AIM_MS else "MISS"
        print(
            f"{name:<26} | {p50:>7.1f} | {p95:>7.1f} | {p50 / baseline:>6.2f} | {count:>3} "
            f"| {sql_ms:>6.1f} | {aim:>4}"
        )
        plans.append((name, sql))
    print("\nThe slowest query of each page, and its plan:\n")
    for name, sql in plans:
        print(f"-- {name}: {sql[:160]}{' ...' if len(sql) > 160 else ''}")
        for line in plan(sql)[:8]:
            print(f"   {line}")
        print()


if __name__ == "__main__":
    main()
