"""Start N race workers (harness/race_worker.py) as OS processes, release them at once, and
collect their results. Used by tests/end_to_end/test_token_race.py and bench/token_bench.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 90.0


def worker_env(database_url: str, settings_module: str, rc: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(rc)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE=settings_module,
        SMSAPP_IGNORE_DOTENV="1",
        PYTHONPATH=str(ROOT),
    )
    return env


def run_workers(
    count: int, mode: str, env: dict[str, str], *, before_go: Callable[[], object] | None = None
) -> list[dict[str, Any]]:
    """Every worker imports Django and says "ready"; then all get "go" together."""
    procs = [
        subprocess.Popen(  # noqa: S603 - our own worker module, run with this interpreter
            [sys.executable, "-m", "harness.race_worker", mode],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    try:
        for proc in procs:
            line = proc.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"race worker did not start (said {line!r})")
        if before_go is not None:
            before_go()
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, _ = proc.communicate(timeout=READY_TIMEOUT)
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def prime(env: dict[str, str]) -> None:
    """Log in once and leave an expired access token behind, from a process of its own."""
    [result] = run_workers(1, "prime", env)
    if not result["ok"]:
        raise RuntimeError(f"prime failed: {result.get('error')}")


def token_requests(counters: dict[str, Any]) -> int:
    return sum(sum(outcomes.values()) for outcomes in counters["token_requests"].values())
