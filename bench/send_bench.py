"""Send benchmark: drain rate against a no-op Celery task, the fleet limiter against
RingCentral's limit, scheduled lateness, and click-to-accepted latency.

Run from the project root after ./scripts/test has made .venv (PostgreSQL and Redis running):

    .venv/bin/python bench/send_bench.py [--texts 2000] [--skip-limits]

It uses its own PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/smsapp_bench_send, dropped and re-created), Redis database 14
(BENCH_REDIS_URL, flushed), an in-process RingCentral simulator and real Celery worker and beat
processes. Every figure is printed beside a baseline or aim measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bench import databases  # noqa: E402
from bench.databases import recreate_database  # noqa: E402
from ringcentral_sim import SimulatorControl, SimulatorServer  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smsapp_bench_send"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
UNLIMITED = {"Auth": 100_000, "Heavy": 100_000, "Medium": 100_000, "Light": 100_000}


def app_env(db_url: str, redis_url: str, sim_url: str, **extra: str) -> dict[str, str]:
    return databases.app_env(
        db_url,
        redis_url,
        sim_url,
        SMS_MAX_RECIPIENTS="10000",
        SMS_RATE_LIMIT_PER_MINUTE="auto",
        **extra,
    )


class Fleet:
    """Celery workers (and beat) as OS processes, stopped on exit."""

    def __init__(self, env: dict[str, str], *, workers: int, concurrency: int, beat: bool) -> None:
        self.env = env
        self.procs: list[subprocess.Popen] = []
        self.logs = ROOT / "test-output" / "bench"
        self.logs.mkdir(parents=True, exist_ok=True)
        for n in range(workers):
            self._start(
                f"worker{n}",
                [
                    "worker",
                    "-n",
                    f"bench{n}@%h",
                    "-c",
                    str(concurrency),
                    "-l",
                    "warning",
                    "-I",
                    "bench.noop_tasks",
                    "--without-mingle",
                    "--without-gossip",
                ],
            )
        if beat:
            self._start(
                "beat", ["beat", "-l", "warning", "--schedule", str(self.logs / "beat-schedule")]
            )
        self._wait_ready(workers)

    def _start(self, name: str, args: list[str]) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "smsapp", *args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def _wait_ready(self, workers: int) -> None:
        from smsapp import celery_app

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(celery_app.control.ping(timeout=0.5)) >= workers:
                return
        raise SystemExit(f"workers did not start: see {self.logs}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def accepted_times(control: SimulatorControl) -> list[float]:
    return sorted(
        datetime.fromisoformat(m["creationTime"].replace("Z", "+00:00")).timestamp()
        for m in control.messages()
    )


def reset_app_state(r: redis.Redis) -> None:
    from smsapp.models import Message

    Message.objects.all().delete()
    r.flushdb()


def redis_calls(r: redis.Redis) -> int:
    return sum(v["calls"] for k, v in r.info("commandstats").items())


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


# -- 1. drain rate -----------------------------------------------------------------------------


def drain(texts: int, r: redis.Redis, control: SimulatorControl) -> dict[str, float]:
    from smsapp import celery_app, services
    from smsapp.models import Message

    numbers = [f"+1650555{n:04d}" for n in range(texts)]
    # Baseline: the same number of no-op tasks, same app, same broker, same workers.
    r.delete("bench:noop:done")
    calls = redis_calls(r)
    started = time.perf_counter()
    for _ in range(texts):
        celery_app.send_task("bench.noop")
    wait_for(lambda: int(r.get("bench:noop:done") or 0) >= texts, 300, "the no-op tasks")
    noop_seconds = time.perf_counter() - started
    noop_calls = redis_calls(r) - calls

    control.reset()
    control.configure(rate_limits=UNLIMITED)
    calls = redis_calls(r)
    started = time.perf_counter()
    services.message_create(to_numbers=numbers, text="Benchmark")
    wait_for(lambda: Message.objects.filter(status="sent").count() >= texts, 600, "the texts")
    send_seconds = time.perf_counter() - started
    send_calls = redis_calls(r) - calls
    assert control.counters()["sms_duplicates"] == []
    return {
        "noop_rate": texts / noop_seconds,
        "send_rate": texts / send_seconds,
        "noop_redis": noop_calls / texts,
        "send_redis": send_calls / texts,
    }


def queries_per_send(control: SimulatorControl, samples: int = 50) -> float:
    """SQL statements one send makes (the same service the task calls), in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from smsapp import services

    control.configure(rate_limits=UNLIMITED)
    # No worker runs now: the tasks this queues wait in the broker, and only message_send
    # below is counted.
    created = services.message_create(
        to_numbers=[f"+1650556{n:04d}" for n in range(samples)], text="Counted"
    )
    with CaptureQueriesContext(connection) as queries:
        for message in created:
            services.message_send(message_id=message.pk)
    return len(queries) / samples


# -- 2. achieved rate against RingCentral's limit -----------------------------------------------


def limited(control: SimulatorControl, r: redis.Redis, limit: int, window: int) -> dict:
    from smsapp import services

    windows = 5 if window <= 10 else 2
    texts = (windows + 1) * limit
    control.reset()
    control.configure(rate_limits={**UNLIMITED, "Medium": limit}, rate_window_seconds=window)
    services.message_create(to_numbers=[f"+1650557{n:04d}" for n in range(texts)], text="Paced")
    wait_for(lambda: len(control.messages()) >= texts, windows * window + 120, "paced texts")
    times = accepted_times(control)
    first = times[0]
    in_windows = sum(1 for t in times if t < first + windows * window)
    return {
        "limit": f"{limit} per {window} s",
        "measured": f"{windows} windows",
        "achieved": in_windows / (windows * limit),
        "rate_limited": sum(control.counters()["rate_limited"].values()),
    }


# -- 3. scheduled lateness ----------------------------------------------------------------------


def lateness(control: SimulatorControl, count: int = 50) -> dict:
    from django.utils import timezone

    from smsapp import services
    from smsapp.models import Message

    control.reset()
    control.configure(rate_limits=UNLIMITED)
    start = timezone.now() + timedelta(seconds=10)
    for n in range(count):  # spread over 25 s, off the dispatcher's beat
        services.message_create(
            to_numbers=[f"+1650558{n:04d}"],
            text="On time",
            send_at=start + timedelta(seconds=n * 0.5 + 0.137),
        )
    wait_for(lambda: len(control.messages()) >= count, 120, "scheduled texts")
    due = {m.to_number: m.send_at.timestamp() for m in Message.objects.filter(text="On time")}
    late = [
        datetime.fromisoformat(m["creationTime"].replace("Z", "+00:00")).timestamp()
        - due["+" + m["to"][0]["phoneNumber"].lstrip("+")]
        for m in control.messages()
    ]
    return {
        "early": sum(1 for x in late if x < 0),
        "p50": statistics.median(late),
        "p95": percentile(late, 0.95),
        "max": max(late),
    }


# -- 4. click to accepted -----------------------------------------------------------------------


def click_to_accepted(control: SimulatorControl, samples: int = 20) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from smsapp.permissions import STAFF_SENDERS_GROUP

    control.reset()
    control.configure(rate_limits=UNLIMITED)
    user, _ = get_user_model().objects.get_or_create(username="bench")
    user.groups.add(Group.objects.get(name=STAFF_SENDERS_GROUP))
    client = Client()
    client.force_login(user)
    hidden = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
    latencies = []
    for n in range(samples):
        form = dict(hidden.findall(client.get("/compose/").content.decode()))
        form.update(to=f"+1650559{n:04d}", text=f"Click {n}")
        expected = len(control.messages()) + 1
        clicked = time.time()
        response = client.post("/compose/", form)
        if response.status_code not in (200, 302):
            raise SystemExit(f"compose answered {response.status_code}")
        wait_for(lambda: len(control.messages()) >= expected, 30, "the clicked text")  # noqa: B023
        accepted = max(accepted_times(control))
        latencies.append((accepted - clicked) * 1000)
        time.sleep(1.0)  # an idle fleet between clicks
    return {"p50": statistics.median(latencies), "p95": percentile(latencies, 0.95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--skip-limits", action="store_true", help="skip the 3-minute part 2")
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    recreate_database(db_url)
    r = redis.Redis.from_url(redis_url)
    r.flushdb()

    with SimulatorServer() as server:
        control = SimulatorControl(server.url)
        control.configure(rate_limits=UNLIMITED)
        env = app_env(db_url, redis_url, server.url)
        databases.start_app(env)

        print(f"1. Drain: {args.texts} texts through 2 workers x 4, simulator without latency")
        print("   (baseline: as many no-op tasks through the same app, broker and workers)\n")
        fleet = Fleet(env, workers=2, concurrency=4, beat=False)
        try:
            result = drain(args.texts, r, control)
        finally:
            fleet.stop()
        reset_app_state(r)
        queries = queries_per_send(control)
        header = f"{'what':<22} | {'per second':>10} | {'Redis calls each':>16} | {'SQL each':>8}"
        print(header)
        print("-" * len(header))
        print(
            f"{'no-op task':<22} | {result['noop_rate']:>10.0f} | "
            f"{result['noop_redis']:>16.1f} | {0:>8}"
        )
        print(
            f"{'send a text':<22} | {result['send_rate']:>10.0f} | "
            f"{result['send_redis']:>16.1f} | {queries:>8.1f}"
        )
        print(f"\nratio send / no-op: {result['send_rate'] / result['noop_rate']:.2f} (aim: 0.2)\n")
        reset_app_state(r)

        fleet = Fleet(env, workers=2, concurrency=4, beat=True)
        try:
            if not args.skip_limits:
                print("2. The fleet against RingCentral's limit (SMS_RATE_LIMIT_PER_MINUTE=auto)\n")
                header = (
                    f"{'RingCentral limit':<17} | {'measured':>9} | {'achieved':>8} | {'429s':>4}"
                )
                print(header)
                print("-" * len(header))
                for limit, window in ((10, 10), (40, 60)):
                    row = limited(control, r, limit, window)
                    print(
                        f"{row['limit']:<17} | {row['measured']:>9} | "
                        f"{row['achieved']:>8.2f} | {row['rate_limited']:>4}"
                    )
                    reset_app_state(r)
                print("\naim: achieved >= 0.95 of the limit, 0 429s\n")
            print("3. Scheduled texts: 50, due 0.5 s apart, dispatcher every 5 s (the default)\n")
            late = lateness(control)
            header = f"{'early':>5} | {'p50 s':>6} | {'p95 s':>6} | {'max s':>6}"
            print(header)
            print("-" * len(header))
            print(
                f"{late['early']:>5} | {late['p50']:>6.2f} | {late['p95']:>6.2f} | "
                f"{late['max']:>6.2f}"
            )
            print("\naim: none early, p95 at most 1 s late (before: 4.3 s)\n")
            reset_app_state(r)
            print(
                "4. Click to accepted: compose POST to RingCentral's 200, idle fleet, 20 clicks\n"
            )
            click = click_to_accepted(control)
            print(f"p50 {click['p50']:.0f} ms, p95 {click['p95']:.0f} ms")
        finally:
            fleet.stop()
    print(
        f"\n(worker logs in {ROOT / 'test-output' / 'bench'}; done {datetime.now(UTC):%H:%M} UTC)"
    )


if __name__ == "__main__":
    main()
