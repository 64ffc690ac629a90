"""Suite-wide setup: refuse to run without PostgreSQL and Redis; a simulator over a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
import redis
from django.conf import settings

from auth_tokens import services as token_services
from ringcentral_sim import SimulatorControl, SimulatorServer
from ringcentral_sim import config as sim

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no'
)


def _postgres_problem() -> str | None:
    db = settings.DATABASES["default"]
    try:
        # The maintenance database: the test database does not exist yet at this point.
        psycopg.connect(
            host=db["HOST"] or None,
            port=db["PORT"] or None,
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as exc:
        where = f"{db['HOST'] or 'the local socket'}:{db['PORT'] or 5432}"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"PostgreSQL is not reachable at {where} ({first_line}). "
            f"Start it (on Debian: {START_POSTGRES}) or point DATABASE_URL at a running server."
        )
    return None


def _redis_problem() -> str | None:
    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return (
            f"Redis is not reachable for CELERY_BROKER_URL ({exc}). "
            f"Start it ({START_REDIS}) or point CELERY_BROKER_URL at a running server."
        )
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    # Stop at once rather than skip: a suite that skips its database tests proves nothing.
    problems = [p for p in (_postgres_problem(), _redis_problem()) if p]
    if problems:
        pytest.exit("\n".join(problems), returncode=3)


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def simulator(simulator_server: SimulatorServer) -> Iterator[SimulatorControl]:
    """The RingCentral simulator on a loopback port, reset to its defaults for each test."""
    control = SimulatorControl(simulator_server.url)
    control.reset()
    yield control
    control.reset()


@pytest.fixture
def rc_settings(settings, simulator: SimulatorControl):
    """RINGCENTRAL_* settings for the simulator's default user, password grant."""
    # No grace: a reused refresh token fails at once, so a race cannot hide behind it.
    simulator.configure(refresh_grace_seconds=0)
    for name, value in sim.app_environment(simulator.url).items():
        setattr(settings, name, value)
    settings.RINGCENTRAL_HTTP_TIMEOUT = 5.0
    token_services._plaintext_cache.clear()
    return settings


@pytest.fixture
def staff_senders(db):
    """The "Staff senders" group. A migration creates it, but tests with transaction=True
    empty every table afterwards, migration data included, so make sure it is there."""
    from django.contrib.auth.models import Group, Permission

    from smsapp.permissions import STAFF_SENDERS_GROUP

    group, _ = Group.objects.get_or_create(name=STAFF_SENDERS_GROUP)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="smsapp", codename="send_sms")
    )
    return group
