"""Timing rules between settings: `manage.py check` (and every entry point) refuses each broken
rule with one line naming the settings."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from auth_tokens.timing import lock_timeout_seconds, worst_request_seconds
from smsapp.timing import stale_sending_seconds, worst_attempt_seconds

# Each rule broken alone (the others hold with the defaults), and the settings its line names.
BROKEN = {
    "backstop below the worst attempt": (
        {"SMS_STALE_SENDING_SECONDS": "100"},
        ["SMS_STALE_SENDING_SECONDS", "RINGCENTRAL_HTTP_TIMEOUT"],
    ),
    "settle time not below the backstop": (
        {"SMS_UNCERTAIN_SETTLE_SECONDS": "500"},
        ["SMS_UNCERTAIN_SETTLE_SECONDS", "SMS_STALE_SENDING_SECONDS"],
    ),
    "lease not below the backstop": (
        {"SMS_LEASE_SECONDS": "500"},
        ["SMS_LEASE_SECONDS", "SMS_STALE_SENDING_SECONDS"],
    ),
    "redispatch not below the visibility timeout": (
        {"SMS_REDISPATCH_SECONDS": "600", "CELERY_VISIBILITY_TIMEOUT": "300"},
        ["SMS_REDISPATCH_SECONDS", "CELERY_VISIBILITY_TIMEOUT"],
    ),
}


def _check(project_root, base_env, extra: dict[str, str], *args: str):
    env = {**base_env, **extra}
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=project_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("rule", BROKEN, ids=list(BROKEN))
def test_manage_py_check_refuses_each_broken_timing_rule_in_one_line(rule, project_root, base_env):
    settings_env, named = BROKEN[rule]
    result = _check(project_root, base_env, settings_env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: ")
    for name in named:
        assert name in lines[0]
    assert "Traceback" not in result.stderr


def test_the_defaults_pass_the_timing_rules(project_root, base_env):
    result = _check(project_root, base_env, {})
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_every_broken_rule_gets_its_own_line(project_root, base_env):
    everything = {}
    for settings_env, _ in BROKEN.values():
        everything.update(settings_env)
    result = _check(project_root, base_env, everything)
    assert result.returncode != 0
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == len(BROKEN)


def test_a_celery_worker_does_not_start_with_a_broken_rule(project_root, base_env):
    env = {**base_env, "SMS_STALE_SENDING_SECONDS": "100"}
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "smsapp", "worker", "--pool", "solo"],
        cwd=project_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SMS_STALE_SENDING_SECONDS" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_system_check_reports_the_same_rules_in_process(settings):
    settings.SMS_UNCERTAIN_SETTLE_SECONDS = stale_sending_seconds() + 1
    with pytest.raises(SystemCheckError, match=r"smsapp\.E002.*SMS_UNCERTAIN_SETTLE_SECONDS"):
        call_command("check", tags=["smsapp_timing"])


def test_the_worst_attempt_covers_two_token_renewals_and_two_calls(settings):
    settings.RINGCENTRAL_HTTP_TIMEOUT = 15.0
    call = 2 * 15.0  # connect and read, each up to the timeout
    assert lock_timeout_seconds() > 2 * call  # the lock holder's refresh and login
    assert worst_request_seconds() == 2 * (lock_timeout_seconds() + 3 * call + call)
    assert worst_attempt_seconds() == worst_request_seconds()
    # The default backstop follows the timeout instead of a fixed age.
    settings.SMS_STALE_SENDING_SECONDS = None
    assert stale_sending_seconds() > worst_attempt_seconds()
    at_15 = worst_attempt_seconds()
    settings.RINGCENTRAL_HTTP_TIMEOUT = 30.0
    assert stale_sending_seconds() > worst_attempt_seconds() > 1.9 * at_15
