"""Token benchmark: refresh storms across processes, and the hot path against a bare SELECT 1.

Run from the project root after ./scripts/test has made .venv:

    .venv/bin/python bench/token_bench.py [--hot-calls 3000] [--processes 1,4,16]

It uses its own PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/smsapp_bench, dropped and re-created) and an in-process
RingCentral simulator. Every figure is compared with a baseline measured in the same run,
because these machines are noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402 - after the path set-up above

from bench.databases import recreate_database  # noqa: E402
from harness.race import prime, run_workers, token_requests, worker_env  # noqa: E402
from ringcentral_sim import SimulatorControl, SimulatorServer  # noqa: E402
from ringcentral_sim import config as sim  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smsapp_bench"


def forget_tokens(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM auth_tokens_ringcentraltoken")


def rc_env(url: str) -> dict[str, str]:
    return {
        **sim.app_environment(url),
        "RINGCENTRAL_HTTP_TIMEOUT": "15",
        "SECRET_KEY": "bench-only-insecure-key",
    }


def storm(env: dict[str, str], control: SimulatorControl, processes: int, mode: str) -> dict:
    control.reset()
    forget_tokens(env["DATABASE_URL"])  # each storm starts from a fresh login
    control.configure(
        refresh_grace_seconds=0,
        rate_limits={"Auth": 1000, "Medium": 40, "Light": 1000, "Heavy": 10},
    )
    prime(env)
    before = control.counters()
    results = run_workers(processes, mode, env)
    after = control.counters()
    waits = sorted(r["seconds"] for r in results)
    return {
        "requests": token_requests(after) - token_requests(before),
        "reuse": after["refresh_token_reuse"] - before["refresh_token_reuse"],
        "failed": sum(not r["ok"] for r in results),
        "slowest_ms": waits[-1] * 1000,
        "median_ms": statistics.median(waits) * 1000,
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def hot_path(calls: int) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from auth_tokens.api import get_access_token

    get_access_token()  # log in once; every call below is the hot path
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # open the connection outside the timings

    def timed(fn) -> list[float]:
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - started)
        return samples

    def select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    # Interleave rounds so drift on a noisy machine hits both sides alike.
    hot: list[float] = []
    base: list[float] = []
    for _ in range(3):
        base += timed(select_one)
        hot += timed(get_access_token)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(100):
            get_access_token()
    return {
        "hot_median_us": statistics.median(hot) * 1e6,
        "hot_p99_us": percentile(hot, 0.99) * 1e6,
        "base_median_us": statistics.median(base) * 1e6,
        "base_p99_us": percentile(base, 0.99) * 1e6,
        "queries_per_call": len(queries) / 100,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,4,16")
    parser.add_argument("--hot-calls", type=int, default=3000)
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    recreate_database(db_url)

    with SimulatorServer() as server:
        control = SimulatorControl(server.url)
        env = worker_env(db_url, "smsapp.settings", rc_env(server.url))
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )

        print("Refresh storm: P processes call get_access_token() at once with an expired token")
        print("(baseline: the same storm through an unlocked 'naive' refresher)\n")
        header = (
            f"{'P':>3} | {'token requests':>14} | {'reuse':>5} | {'failed':>6} | "
            f"{'slowest ms':>10} | {'median ms':>9} || {'naive requests':>14} | "
            f"{'naive reuse':>11} | {'naive failed':>12}"
        )
        print(header)
        print("-" * len(header))
        for count in [int(p) for p in args.processes.split(",")]:
            locked = storm(env, control, count, "get")
            naive = storm(env, control, count, "naive")
            print(
                f"{count:>3} | {locked['requests']:>14} | {locked['reuse']:>5} | "
                f"{locked['failed']:>6} | {locked['slowest_ms']:>10.1f} | "
                f"{locked['median_ms']:>9.1f} || {naive['requests']:>14} | "
                f"{naive['reuse']:>11} | {naive['failed']:>12}"
            )

        control.reset()
        os.environ.update(env)
        result = hot_path(args.hot_calls)
    ratio = result["hot_median_us"] / result["base_median_us"]
    print(f"\nHot path: {3 * args.hot_calls} calls each, PostgreSQL, valid token\n")
    header = f"{'what':<28} | {'median us':>9} | {'p99 us':>8} | {'queries/call':>12}"
    print(header)
    print("-" * len(header))
    print(
        f"{'SELECT 1 (baseline)':<28} | {result['base_median_us']:>9.1f} | "
        f"{result['base_p99_us']:>8.1f} | {1:>12}"
    )
    print(
        f"{'get_access_token()':<28} | {result['hot_median_us']:>9.1f} | "
        f"{result['hot_p99_us']:>8.1f} | {result['queries_per_call']:>12.2f}"
    )
    print(f"\nratio get_access_token / SELECT 1 (median): {ratio:.2f}x (aim: within 2x)")


if __name__ == "__main__":
    main()
