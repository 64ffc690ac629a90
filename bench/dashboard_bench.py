"""Dashboard benchmark: the monitoring page with a week of texts (100,000 by default) and a
week of token events, p50/p95 beside a baseline page of the same run, the queries it makes and
the plan of the slowest.

Run from the project root after ./scripts/test has made .venv (PostgreSQL and Redis running):

    .venv/bin/python bench/dashboard_bench.py [--rows 100000] [--requests 20] [--keep]

It uses its own PostgreSQL database (BENCH_DASHBOARD_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/smsapp_bench_dashboard) and only reads Redis
(BENCH_DASHBOARD_REDIS_URL, default redis://127.0.0.1:6379/13). The aim: one aggregate query
per chart, so the page stays within a few times the baseline whatever the number of texts.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.databases import open_bench_database  # noqa: E402
from bench.history_bench import measure, plan  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smsapp_bench_dashboard"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
STATUSES = ["delivered"] * 85 + ["sent"] * 5 + ["failed"] * 6 + ["canceled"] * 2 + ["queued"] * 2
FAILURE_CODES = ["SMS-RC-413", "SMS-UP-414", "SMS-CAR-430", "SMS-UP-410", "MSG-242", "TRANSIENT"]
WEEK = timedelta(days=7).total_seconds()


def fill(rows: int) -> None:
    """`rows` texts spread evenly over the last seven days, and a token refreshed twice an
    hour with a few failures, as keep-alive leaves it."""
    from django.db import connection, transaction
    from django.utils import timezone

    from auth_tokens.models import RingCentralToken, TokenEvent
    from smsapp.models import Message

    now = timezone.now()
    rng = random.Random(16)
    batch = 10_000
    for first in range(0, rows, batch):
        count = min(batch, rows - first)
        with transaction.atomic():
            messages = Message.objects.bulk_create(
                [
                    Message(
                        to_number=f"+1650{rng.randrange(10**7):07d}",
                        from_number="+16505550100",
                        text="Your appointment is confirmed",
                        status=(status := rng.choice(STATUSES)),
                        error_code=rng.choice(FAILURE_CODES) if status == "failed" else "",
                        error_reason="Refused by the carrier" if status == "failed" else "",
                    )
                    for _ in range(count)
                ]
            )
        low, high = messages[0].pk, messages[-1].pk
        with connection.cursor() as cursor:
            # Text k of `rows` is created k/rows of the way from a week ago; accepted 2 s later,
            # delivered 3 to 62 s after that.
            cursor.execute(
                "UPDATE smsapp_message SET created_at = %s - make_interval(secs => "
                "(%s - (%s + id - %s)) * %s), updated_at = now() WHERE id BETWEEN %s AND %s",
                [now, rows, first, low, WEEK / rows, low, high],
            )
            cursor.execute(
                "UPDATE smsapp_message SET sent_at = created_at + interval '2 seconds', "
                "delivered_at = CASE WHEN status = 'delivered' THEN created_at + "
                "make_interval(secs => 5 + id %% 60) END "
                "WHERE id BETWEEN %s AND %s AND status IN ('sent', 'delivered', 'failed')",
                [low, high],
            )
    token = RingCentralToken.objects.create(
        credential_key="bench", server_url="http://127.0.0.1:1", client_id="bench"
    )
    kinds = [TokenEvent.Kind.REFRESHED] * 20 + [TokenEvent.Kind.LOGIN_FAILED]
    TokenEvent.objects.bulk_create(
        [
            TokenEvent(token=token, kind=rng.choice(kinds), at=now - timedelta(minutes=30 * n))
            for n in range(7 * 48)
        ]
    )
    print(f"  filled {rows:,} texts and {7 * 48} token events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="reuse an already filled database")
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DASHBOARD_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_DASHBOARD_REDIS_URL", DEFAULT_REDIS)
    reuse = open_bench_database(
        db_url, keep=args.keep, CELERY_BROKER_URL=redis_url, REDIS_URL=redis_url
    )
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from smsapp.models import Message

    if not reuse:
        started = time.perf_counter()
        print(f"Filling {args.rows:,} texts over seven days ...")
        fill(args.rows)
        print(f"  ({time.perf_counter() - started:.0f} s)")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE smsapp_message")
        cursor.execute("VACUUM ANALYZE auth_tokens_tokenevent")
    admin, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(admin)
    # The baseline: a page with the same sign-in, middleware, banner and layout, no texts.
    pages = [("baseline: compose", "/compose/"), ("dashboard", "/monitoring/")]
    print(f"\n{Message.objects.count():,} texts; {args.requests} requests per page, in ms\n")
    header = (
        f"{'page':<20} | {'p50 ms':>7} | {'p95 ms':>7} | {'x base':>6} | {'SQL':>3} | {'SQL ms':>6}"
    )
    print(header)
    print("-" * len(header))
    baseline = 0.0
    slowest = ""
    for name, url in pages:
        p50, p95, sql, count, sql_ms = measure(client, url, args.requests)
        baseline = baseline or p50
        print(
            f"{name:<20} | {p50:>7.1f} | {p95:>7.1f} | {p50 / baseline:>6.2f} | {count:>3} "
            f"| {sql_ms:>6.1f}"
        )
        slowest = sql
    print(f"\nThe dashboard's slowest query: {slowest[:200]}{' ...' if len(slowest) > 200 else ''}")
    for line in plan(slowest)[:12]:
        print(f"   {line}")


if __name__ == "__main__":
    main()
