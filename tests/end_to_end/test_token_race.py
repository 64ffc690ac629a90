"""Many OS processes (harness/race_worker.py), one token row: renewal happens once, on
PostgreSQL and on SQLite; a 401 seen by every process re-authenticates once."""

from __future__ import annotations

import pytest

from harness.race import prime, run_workers, token_requests, worker_env
from ringcentral_sim import SimulatorControl
from ringcentral_sim import config as sim
from tests.support.processes import run_manage, shared_database_url

pytestmark = pytest.mark.processes
PROCESSES = 8


def _rc_env(simulator: SimulatorControl) -> dict[str, str]:
    return {**sim.app_environment(simulator.url), "RINGCENTRAL_HTTP_TIMEOUT": "10"}


def _postgres_env(simulator: SimulatorControl) -> dict[str, str]:
    return worker_env(shared_database_url(), "tests.settings", _rc_env(simulator))


@pytest.fixture
def sqlite_env(tmp_path, simulator):
    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    env = worker_env(url, "smsapp.settings", _rc_env(simulator))
    migrated = run_manage("migrate", "--verbosity", "0", env=env, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
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
