"""Many OS processes, one token row: renewal happens once, on PostgreSQL and on SQLite."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import psycopg
import pytest
from django.utils import timezone

from auth_tokens.errors import AuthThrottled, TokenLockTimeout
from auth_tokens.models import RingCentralToken
from auth_tokens.services import get_access_token
from ringcentral_sim import SimulatorControl
from ringcentral_sim import config as sim
from tests.auth_tokens.race import ROOT, prime, run_workers, token_requests, worker_env
from tests.shared_db import shared_database_url

PROCESSES = 8


def _rc_env(simulator: SimulatorControl) -> dict[str, str]:
    return {**sim.app_environment(simulator.url), "RINGCENTRAL_HTTP_TIMEOUT": "10"}


def _postgres_env(simulator: SimulatorControl) -> dict[str, str]:
    return worker_env(shared_database_url(), "tests.settings", _rc_env(simulator))


@pytest.fixture
def sqlite_env(tmp_path, simulator):
    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    env = worker_env(url, "smsapp.settings", _rc_env(simulator))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return env


@pytest.fixture
def strict_simulator(simulator):
    # No grace and room for more Auth requests than a correct client needs: any extra token
    # request or reused refresh token shows in the counters instead of hiding behind a 429.
    simulator.configure(
        refresh_grace_seconds=0,
        rate_limits={"Auth": 100, "Medium": 40, "Light": 100, "Heavy": 10},
    )
    return simulator


def _race(env, simulator, mode: str = "get") -> tuple[list[dict], int, int]:
    prime(env)
    before = simulator.counters()
    results = run_workers(PROCESSES, mode, env)
    after = simulator.counters()
    requests = token_requests(after) - token_requests(before)
    reuse = after["refresh_token_reuse"] - before["refresh_token_reuse"]
    return results, requests, reuse


@pytest.mark.django_db(transaction=True)
def test_eight_processes_with_an_expired_token_cause_one_refresh_on_postgres(strict_simulator):
    results, requests, reuse = _race(_postgres_env(strict_simulator), strict_simulator)
    assert [r.get("error") for r in results if not r["ok"]] == []
    assert requests == 1
    assert reuse == 0
    assert len({(r["token"], r["version"]) for r in results}) == 1
    assert strict_simulator.counters()["token_requests"]["refresh_token"] == {"ok": 1}


@pytest.mark.django_db(transaction=True)
def test_the_race_harness_catches_an_unlocked_refresher(strict_simulator):
    # The same race against the naive client proves the test above can fail.
    results, requests, reuse = _race(_postgres_env(strict_simulator), strict_simulator, "naive")
    assert requests == PROCESSES
    # How many lose depends on timing (a straggler may read the winner's new token first), but
    # the race always shows: reused refresh tokens, each one a failed worker.
    assert reuse > 0
    assert reuse == sum(not r["ok"] for r in results)


def test_eight_processes_cause_one_refresh_on_sqlite_too(strict_simulator, sqlite_env):
    results, requests, reuse = _race(sqlite_env, strict_simulator)
    assert [r.get("error") for r in results if not r["ok"]] == []
    assert requests == 1
    assert reuse == 0
    assert len({r["token"] for r in results}) == 1


@pytest.mark.django_db(transaction=True)
def test_a_401_seen_by_every_process_reauthenticates_once(strict_simulator):
    env = _postgres_env(strict_simulator)
    prime(env)
    run_workers(1, "get", env)  # a valid stored token, which every worker then reads
    # Each worker holds that token before "go"; the platform then ends its session, so all
    # eight API calls get 401 at once.
    results = run_workers(PROCESSES, "api", env, before_go=strict_simulator.revoke_all)
    assert all(r["ok"] for r in results), results
    counted = strict_simulator.counters()["token_requests"]
    # The revoked session's refresh token is refused once, then exactly one fresh login.
    assert counted["refresh_token"] == {"ok": 1, "OAU-213": 1}
    assert counted["password"] == {"ok": 2}  # the prime's login and the one re-login


@pytest.mark.django_db(transaction=True)
def test_a_process_holding_the_lock_too_long_makes_others_give_up_cleanly(rc_settings, simulator):
    rc_settings.RINGCENTRAL_HTTP_TIMEOUT = 0.1  # the lock wait is 4 HTTP timeouts + 5 s
    get_access_token()
    RingCentralToken.objects.update(access_expires_at=timezone.now() - timedelta(seconds=1))
    before = simulator.counters()["token_requests"]
    # Another process stuck in the middle of a renewal, holding the row lock.
    with psycopg.connect(shared_database_url()) as holder:
        holder.execute("SELECT id FROM auth_tokens_ringcentraltoken FOR UPDATE")
        with pytest.raises(TokenLockTimeout):
            get_access_token()
    assert simulator.counters()["token_requests"] == before  # it did not race the holder


@pytest.mark.django_db(transaction=True)
def test_a_throttled_caller_fails_fast_without_waiting_for_the_lock(rc_settings, simulator):
    rc_settings.RINGCENTRAL_HTTP_TIMEOUT = 0.1
    get_access_token()
    RingCentralToken.objects.update(
        access_expires_at=timezone.now() - timedelta(seconds=1),
        throttled_until=timezone.now() + timedelta(seconds=30),
    )
    with psycopg.connect(shared_database_url()) as holder:
        holder.execute("SELECT id FROM auth_tokens_ringcentraltoken FOR UPDATE")
        started = time.monotonic()
        with pytest.raises(AuthThrottled):
            get_access_token()
    # Well under the lock timeout (4 HTTP timeouts + 5 s): the throttle was read, not waited on.
    assert time.monotonic() - started < 2
