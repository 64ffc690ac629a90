"""Helpers for the sending tests: settings for the real backend, and real worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from smsapp import celery_app
from tests.shared_db import shared_database_url

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def process_env(settings) -> dict[str, str]:
    """What a worker or beat process needs to act like this test's settings."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        SMSAPP_IGNORE_DOTENV="1",
        DATABASE_URL=shared_database_url(),
        PYTHONUNBUFFERED="1",
    )
    for name in (
        "RINGCENTRAL_SERVER_URL",
        "RINGCENTRAL_CLIENT_ID",
        "RINGCENTRAL_CLIENT_SECRET",
        "RINGCENTRAL_USERNAME",
        "RINGCENTRAL_EXTENSION",
        "RINGCENTRAL_PASSWORD",
        "RINGCENTRAL_JWT",
        "SMS_FROM_NUMBER",
        "SMS_BACKEND",
        "CELERY_BROKER_URL",
        "REDIS_URL",
    ):
        env[name] = str(getattr(settings, name))
    for name in (
        "RINGCENTRAL_HTTP_TIMEOUT",
        "SMS_RETRY_BASE_SECONDS",
        "SMS_RETRY_MAX_SECONDS",
        "SMS_MAX_ATTEMPTS",
        "SMS_STALE_SENDING_SECONDS",
        "SMS_LEASE_SECONDS",
        "SMS_REDISPATCH_SECONDS",
        "SMS_UNCERTAIN_SETTLE_SECONDS",
        "SMS_AUTH_HOLD_SECONDS",
        "SMS_RATE_LIMIT_PER_MINUTE",
        "SMS_DISPATCH_INTERVAL",
        "SMS_SWEEP_INTERVAL",
        "SMS_STATUS_POLL_INTERVAL",
        "SMS_PROBE_INTERVAL",
    ):
        value = getattr(settings, name)
        if name == "SMS_RATE_LIMIT_PER_MINUTE" and value == 0:
            value = "auto"  # how the app holds "auto" inside
        if value is None:
            env.pop(name, None)  # unset: the worker derives it as these settings do
        else:
            env[name] = str(value)
    return env


class Process:
    """A celery worker or beat subprocess with its output in a log file; never left behind."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        # Its own process group, so a kill takes the pool children with it.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "smsapp", *args],
            cwd=ROOT,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole group: no warm shutdown, no requeue, like a lost machine."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()


def start_worker(env: dict[str, str], tmp_path: Path, *, concurrency: int = 2) -> Process:
    name = f"sms-test-{uuid.uuid4().hex[:8]}@localhost"
    worker = Process(
        [
            "worker",
            "-n",
            name,
            "--pool",
            "prefork",
            "-c",
            str(concurrency),
            "-l",
            "info",
            "--without-mingle",
            "--without-gossip",
        ],
        env,
        tmp_path / f"{name.split('@')[0]}.log",
    )
    try:
        wait_until(
            lambda: celery_app.control.ping(destination=[name], timeout=0.5),
            60,
            "the worker to answer ping",
        )
    except AssertionError:
        worker.stop()
        raise AssertionError(f"worker did not start:\n{worker.output()[-3000:]}") from None
    return worker


def start_beat(env: dict[str, str], tmp_path: Path) -> Process:
    beat = Process(
        ["beat", "-l", "info", "--schedule", str(tmp_path / "beat-schedule")],
        env,
        tmp_path / "beat.log",
    )
    wait_until(lambda: "beat: Starting" in beat.output(), 30, "beat to start")
    return beat
