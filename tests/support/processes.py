"""Processes a test starts: manage.py and other one-shot commands, Celery workers and beat.

Tests that use these are marked `processes` (see tests/conftest.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from smsapp import celery_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


# -- one-shot commands -------------------------------------------------------------------------


def run_python(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python ARGS` from the project root with this interpreter; output captured as text."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_manage(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python manage.py ARGS`, as an operator runs it."""
    return run_python("manage.py", *args, env=env, timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess[str], prefix: str) -> str:
    """The single line a failed command printed on stderr, which starts with `prefix`: no
    traceback, nothing else."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(prefix), lines[0]
    return lines[0]


def shared_database_url() -> str:
    """The test database's URL, for processes that must see the same rows. Only meaningful
    with transaction=True tests: other processes see committed rows only."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


# -- Celery worker and beat ----------------------------------------------------------------------


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
        "RINGCENTRAL_WEBHOOK_URL",
        "SMS_A2P_FROM_NUMBER",
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
        "INBOUND_SYNC_INTERVAL",
        "INBOUND_SYNC_INTERVAL_WITH_WEBHOOK",
        "INBOUND_WEBHOOK_CHECK_INTERVAL",
        "RINGCENTRAL_WEBHOOK_EXPIRES_IN",
        "SMS_A2P_BATCH_SIZE",
        "SMS_MAX_BULK_RECIPIENTS",
    ):
        value = getattr(settings, name)
        if name == "SMS_RATE_LIMIT_PER_MINUTE" and value == 0:
            value = "auto"  # how the app holds "auto" inside
        if value is None:
            env.pop(name, None)  # unset: the worker derives it as these settings do
        else:
            env[name] = str(value)
    return env


def use_production_timings(settings) -> None:
    """The timings an operator gets without tuning anything (the defaults of smsapp.settings),
    for the tests that hold recovery to docs/exactly-once.md's aim."""
    settings.RINGCENTRAL_HTTP_TIMEOUT = 15.0
    settings.SMS_LEASE_SECONDS = 10.0
    settings.SMS_SWEEP_INTERVAL = 5.0
    settings.SMS_UNCERTAIN_SETTLE_SECONDS = 30.0
    settings.SMS_DISPATCH_INTERVAL = 5.0
    settings.SMS_REDISPATCH_SECONDS = 300.0
    settings.SMS_STATUS_POLL_INTERVAL = 15.0


class Process:
    """A celery worker or beat subprocess with its output in a log file; never left behind."""

    name = ""  # a worker's node name (start_worker)

    def __init__(
        self, args: list[str], env: dict[str, str], log: Path, *, prefix: Sequence[str] = ()
    ) -> None:
        self.log = log
        self._out = log.open("wb")
        # Its own process group, so a kill takes the pool children with it. `prefix` runs it
        # elsewhere (`ip netns exec NS` execs the command: the group and its kill stay the same).
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "celery", "-A", "smsapp", *args],
            cwd=PROJECT_ROOT,
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

    def stop(self) -> int:
        """SIGTERM (Celery's warm shutdown), SIGKILL after 20 s; returns the exit status."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()
        return self.proc.returncode


@contextmanager
def running(*processes: Process) -> Iterator[tuple[Process, ...]]:
    """Stop every one of `processes` on the way out, however the block ends."""
    try:
        yield processes
    finally:
        for process in processes:
            process.stop()


def start_worker(
    env: dict[str, str],
    tmp_path: Path,
    *,
    concurrency: int = 2,
    pool: str = "prefork",
    prefix: Sequence[str] = (),
    name: str = "",
    where: str = "",
) -> Process:
    """A worker that answers ping: started, connected to the broker, consuming. `prefix`,
    `name` and `where` run it elsewhere (tests.support.netns: in a host's namespace)."""
    name = name or f"sms-test-{uuid.uuid4().hex[:8]}@localhost"
    worker = Process(
        [
            "worker",
            "-n",
            name,
            "--pool",
            pool,
            "-c",
            str(concurrency),
            "-l",
            "info",
            "--without-mingle",
            "--without-gossip",
        ],
        env,
        tmp_path / f"{name.split('@')[0]}.log",
        prefix=prefix,
    )
    worker.name = name
    try:
        wait_until(
            lambda: celery_app.control.ping(destination=[name], timeout=0.5),
            60,
            f"the worker{where} to answer ping",
        )
    except AssertionError:
        worker.stop()
        raise AssertionError(f"worker did not start:\n{worker.output()[-3000:]}") from None
    return worker


def start_beat(
    env: dict[str, str], tmp_path: Path, *, prefix: Sequence[str] = (), label: str = ""
) -> Process:
    suffix = f"-{label}" if label else ""
    beat = Process(
        ["beat", "-l", "info", "--schedule", str(tmp_path / f"beat{suffix}-schedule")],
        env,
        tmp_path / f"beat{suffix}.log",
        prefix=prefix,
    )
    wait_until(lambda: "beat: Starting" in beat.output(), 30, "beat to start")
    return beat
