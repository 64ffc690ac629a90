"""Bulk-send benchmark: a 10,000-line CSV from upload to every text handed to RingCentral, with
the high-volume (A2P) batch API and without it, and the upload + preview time and memory.

Run from the project root after ./scripts/test has made .venv (PostgreSQL and Redis running):

    .venv/bin/python bench/bulk_bench.py [--rows 10000] [--batch-size 1000]

It uses its own PostgreSQL database (BENCH_BULK_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/smsapp_bench_bulk) and Redis db 13, and a simulator in this
process. The baselines, measured in the same run: reading the same file with csv.reader and
parsing each number (the work any upload must do), and the standard API's pace (40 texts a
minute unless RingCentral says otherwise), which is computed, not waited for.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bench import databases  # noqa: E402
from bench.databases import recreate_database  # noqa: E402
from harness.contacts import TEXT, contacts_csv  # noqa: E402
from ringcentral_sim import SimulatorControl, SimulatorServer  # noqa: E402
from ringcentral_sim import config as sim  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smsapp_bench_bulk"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
A2P_NUMBER = sim.DEFAULT_A2P_NUMBER
STANDARD_PACE = 40  # texts a minute: RingCentral's Medium group, the default "auto" start


def app_env(db_url: str, redis_url: str, sim_url: str) -> dict[str, str]:
    return databases.app_env(db_url, redis_url, sim_url, SMS_MAX_BULK_RECIPIENTS="250000")


def baseline_parse(data: bytes) -> float:
    """Seconds to read the file and parse every number: the floor for any upload."""
    from django.conf import settings

    from smsapp.phones import to_e164

    started = time.perf_counter()
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    header = next(reader)
    phone = header.index("Phone")
    for row in reader:
        to_e164(row[phone], settings.SMS_DEFAULT_REGION)
    return time.perf_counter() - started


def upload(data: bytes, user, *, trace: bool = False) -> tuple[object, float, float]:
    """(the bulk send, seconds, peak Python memory in MB or 0) for one upload. Tracing memory
    slows Python down several times: the time is measured in an untraced upload."""
    from campaigns.services.bulk import bulk_create_from_csv

    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    bulk = bulk_create_from_csv(
        file=io.BytesIO(data), file_name="bench.csv", text=TEXT, created_by=user
    )
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    return bulk, seconds, peak / 1e6


def preview_ms(client, bulk, requests: int = 5) -> float:
    from django.urls import reverse

    url = reverse("campaigns:bulk-detail", args=[bulk.pk])
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times)


def hand_over_a2p(bulk) -> float:
    """Seconds from confirm until every line is in an accepted batch (the feeder as beat runs
    it, back to back)."""
    from campaigns.models import BulkSend
    from campaigns.services.bulk import bulk_confirm
    from campaigns.services.feed import bulk_feed

    started = time.perf_counter()
    bulk_confirm(bulk=bulk)
    while BulkSend.objects.get(pk=bulk.pk).status != BulkSend.Status.DONE:
        bulk_feed()
        if time.perf_counter() - started > 600:
            raise RuntimeError("the A2P hand-over took over 10 minutes")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_BULK_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    recreate_database(db_url)
    redis.Redis.from_url(redis_url).flushdb()

    with SimulatorServer() as server:
        control = SimulatorControl(server.url)
        control.configure(rate_limits={"Auth": 100, "Heavy": 100, "Medium": 100, "Light": 100_000})
        env = app_env(db_url, redis_url, server.url)
        databases.start_app(env)
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.test import Client

        from smsapp.permissions import STAFF_SENDERS_GROUP

        settings.SMS_A2P_BATCH_SIZE = args.batch_size
        user = get_user_model().objects.create_user("bench")
        user.groups.add(Group.objects.get(name=STAFF_SENDERS_GROUP))
        client = Client()
        client.force_login(user)
        data = contacts_csv(args.rows)
        print(f"A {args.rows:,}-line CSV ({len(data) / 1e6:.1f} MB): name, phone, appointment\n")

        # 1. Upload and preview.
        baseline = min(baseline_parse(data) for _ in range(3))
        settings.SMS_A2P_FROM_NUMBER = ""
        _, _, peak = upload(data, user, trace=True)
        bulk, seconds, _ = upload(data, user)
        shown = preview_ms(client, bulk)
        header = f"{'step':<38} | {'seconds':>8} | {'x baseline':>10} | {'peak MB':>7}"
        print("1. Upload and preview")
        print(header)
        print("-" * len(header))
        print(
            f"{'baseline: csv.reader + parse numbers':<38} | {baseline:>8.2f} | "
            f"{1:>10.2f} | {'':>7}"
        )
        print(
            f"{'upload (read, check, store each line)':<38} | {seconds:>8.2f} | "
            f"{seconds / baseline:>10.2f} | {peak:>7.1f}"
        )
        print(f"{'preview page (median of 5)':<38} | {shown / 1000:>8.3f} | {'':>10} | {'':>7}")
        print(
            f"\nFile size {len(data) / 1e6:.1f} MB; Python's peak while uploading {peak:.1f} MB.\n"
        )

        # 2. Handed to RingCentral.
        settings.SMS_A2P_FROM_NUMBER = A2P_NUMBER
        a2p_bulk, a2p_upload, _ = upload(data, user)
        a2p_seconds = hand_over_a2p(a2p_bulk)
        counters = control.counters()
        pipeline_seconds = args.rows / STANDARD_PACE * 60
        print(f"2. {args.rows:,} texts from confirm to all handed to RingCentral")
        header = f"{'path':<44} | {'seconds':>9} | {'requests':>8} | {'x faster':>8}"
        print(header)
        print("-" * len(header))
        print(
            f"{'standard SMS API at 40 a minute (computed)':<44} | {pipeline_seconds:>9.0f} | "
            f"{args.rows:>8} | {1:>8.1f}"
        )
        print(
            f"{f'A2P batches of {args.batch_size} (measured)':<44} | {a2p_seconds:>9.1f} | "
            f"{counters['a2p_batches']:>8} | {pipeline_seconds / a2p_seconds:>8.0f}"
        )
        print(
            f"\nUpload of the A2P list {a2p_upload:.2f} s. Simulator: {counters['a2p_messages']:,} "
            f"A2P texts in {counters['a2p_batches']} batches, {counters['a2p_duplicates']} "
            "duplicates."
        )
        if counters["a2p_messages"] != args.rows or counters["a2p_duplicates"]:
            raise SystemExit("error: the A2P hand-over lost or repeated texts")


if __name__ == "__main__":
    main()
