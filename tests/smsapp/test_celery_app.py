"""The Celery app is configured from Django settings and its worker and beat really start."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from smsapp import celery_app

STOP_TIMEOUT = 20


@contextmanager
def running(
    cmd: list[str], *, cwd: Path, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen]:
    """Run a process with output to a file (a full pipe would block it); never leave it behind."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM (Celery's warm shutdown) and wait; a process that ignores it fails the test."""
    proc.terminate()
    return proc.wait(timeout=STOP_TIMEOUT)


def wait_for_log(proc: subprocess.Popen, log: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return True
        if proc.poll() is not None:
            return text in log.read_text(errors="replace")
        time.sleep(0.2)
    return False


def celery_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "smsapp", *args]


def test_app_is_json_only_and_configured_from_django_settings():
    conf = celery_app.conf

    assert conf.broker_url == settings.CELERY_BROKER_URL
    assert conf.broker_url.endswith("/15")
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == 3600


def test_worker_starts_and_answers_ping(project_root, base_env, tmp_path):
    name = f"smsapp-test-{uuid.uuid4().hex[:12]}@localhost"
    log = tmp_path / "worker.log"
    cmd = celery_cmd(
        "worker", "--pool", "solo", "-n", name, "-l", "info", "--without-mingle", "--without-gossip"
    )

    with running(cmd, cwd=project_root, env=base_env, log=log) as proc:
        replies: list[dict] = []
        deadline = time.monotonic() + 30
        while not replies and proc.poll() is None and time.monotonic() < deadline:
            replies = celery_app.control.ping(destination=[name], timeout=1.0)

        assert replies == [{name: {"ok": "pong"}}], log.read_text(errors="replace")
        assert stop(proc) == 0, log.read_text(errors="replace")


def test_beat_starts(project_root, base_env, tmp_path):
    log = tmp_path / "beat.log"
    cmd = celery_cmd("beat", "-l", "info", "--schedule", str(tmp_path / "beat-schedule"))

    with running(cmd, cwd=project_root, env=base_env, log=log) as proc:
        started = wait_for_log(proc, log, "beat: Starting", timeout=20)

        assert started, log.read_text(errors="replace")
        assert proc.poll() is None, log.read_text(errors="replace")
        stop(proc)


def test_worker_with_bad_config_exits_with_one_line_error(project_root, base_env):
    del base_env["SECRET_KEY"]

    result = subprocess.run(
        celery_cmd("worker", "--pool", "solo"),
        cwd=project_root,
        env=base_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: SECRET_KEY is not set")
