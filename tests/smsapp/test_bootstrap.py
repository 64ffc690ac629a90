"""smsapp/bootstrap.py: every entry point (manage.py, celery) stops on a bad configuration or an
unreachable database with one line, never a traceback, never a password."""

from __future__ import annotations

import pytest

from tests.support.processes import one_line_error, run_manage, run_python

pytestmark = pytest.mark.processes
CELERY_WORKER = ("-m", "celery", "-A", "smsapp", "worker", "--pool", "solo")


@pytest.mark.parametrize(
    "url",
    [
        "postgres://postgres:hunter2@127.0.0.1:5432/smsapp_no_such_database",
        "postgres://postgres:hunter2@127.0.0.1:9/smsapp",  # nothing listens on port 9
    ],
)
def test_an_unreachable_database_is_one_line_without_the_password(base_env, url):
    base_env["DATABASE_URL"] = url

    result = run_manage("migrate", env=base_env)

    assert result.returncode == 1
    line = one_line_error(result, "Database error: ")
    assert "DATABASE_URL" in line
    assert "hunter2" not in result.stderr


def test_worker_with_bad_config_exits_with_one_line_error(base_env):
    del base_env["SECRET_KEY"]

    result = run_python(*CELERY_WORKER, env=base_env)

    one_line_error(result, "Configuration error: SECRET_KEY is not set")


def test_a_celery_worker_does_not_start_with_a_broken_rule(base_env):
    env = {**base_env, "SMS_STALE_SENDING_SECONDS": "100"}

    result = run_python(*CELERY_WORKER, env=env)

    assert result.returncode != 0
    assert "SMS_STALE_SENDING_SECONDS" in result.stderr
    assert "Traceback" not in result.stderr
