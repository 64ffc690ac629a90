"""smsapp/checks.py: `manage.py check` (and every entry point) refuses each broken timing rule
with one line naming the settings, and warns about a backend that does not send."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from smsapp.sending_health import sending_health
from smsapp.timing import stale_sending_seconds
from tests.support.processes import one_line_error, run_manage


def _keys(health) -> set[str]:
    return {p.key for p in health.problems}


# -- the timing rules --------------------------------------------------------------------------


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


@pytest.mark.processes
@pytest.mark.parametrize("rule", BROKEN, ids=list(BROKEN))
def test_manage_py_check_refuses_each_broken_timing_rule_in_one_line(rule, base_env):
    settings_env, named = BROKEN[rule]
    result = run_manage("check", env={**base_env, **settings_env})
    line = one_line_error(result, "Configuration error: ")
    for name in named:
        assert name in line


@pytest.mark.processes
def test_the_defaults_pass_the_timing_rules(base_env):
    result = run_manage("check", env=base_env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.processes
def test_every_broken_rule_gets_its_own_line(base_env):
    everything = {}
    for settings_env, _ in BROKEN.values():
        everything.update(settings_env)
    result = run_manage("check", env={**base_env, **everything})
    assert result.returncode != 0
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == len(BROKEN)


def test_the_system_check_reports_the_same_rules_in_process(settings):
    settings.SMS_UNCERTAIN_SETTLE_SECONDS = stale_sending_seconds() + 1
    with pytest.raises(SystemCheckError, match=r"smsapp\.E002.*SMS_UNCERTAIN_SETTLE_SECONDS"):
        call_command("check", tags=["smsapp_timing"])


# -- a backend that does not send --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["console", "locmem"])
def test_a_pretend_backend_in_production_is_a_warning_a_503_and_a_banner(
    client, settings, clean_redis, sender, backend
):
    settings.DEBUG = False
    settings.SMS_BACKEND = backend
    [warning] = [m for m in run_checks() if m.id == "smsapp.W001"]
    assert f"SMS_BACKEND={backend}" in warning.msg
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    [problem] = [p for p in response.json()["problems"] if p["key"] == "configuration"]
    assert "does not send texts" in problem["detail"]
    client.force_login(sender)
    page = client.get(reverse("smsapp:compose")).content.decode()
    assert "not set up to send them" in page


@pytest.mark.django_db
def test_a_pretend_backend_while_developing_is_fine(settings, clean_redis):
    settings.DEBUG = True
    settings.SMS_BACKEND = "console"
    assert not [m for m in run_checks() if m.id == "smsapp.W001"]
    assert "configuration" not in _keys(sending_health())
