"""Suite-wide fixtures, and the tiers: each test is marked from what it uses, and PostgreSQL and
Redis are checked (and touched) only when a selected test needs them.

Markers (registered in pyproject.toml):
- `services`: the test needs something outside the pytest process: PostgreSQL (the django_db
  marker, or the db, transactional_db or live_server fixtures), Redis (the clean_redis fixture,
  which sms_settings uses), the RingCentral simulator on a loopback socket (the
  simulator_server fixture, which simulator, rc_settings and sms_settings use), processes it
  starts, or Chromium. Set here, never by hand: `-m "not services"` is the fast tier of pure
  tests, which runs without PostgreSQL or Redis.
- `processes`: the test starts processes (Celery workers or beat, manage.py, race workers).
  Set by hand on the test or module; implies `services`.
- `browser`: the test drives Chromium (the chromium fixture). Set here; implies `services`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings

from auth_tokens import services as token_services
from ringcentral_sim import SimulatorControl, SimulatorServer
from ringcentral_sim import config as sim
from smsapp import celery_app
from tests.support.processes import PROJECT_ROOT

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no'
)

# Fixtures that mean the test needs PostgreSQL, Redis or a socket of the simulator: each of the
# others (admin_client, sender, sms_settings, rc_settings, ...) requests one of these, and
# item.fixturenames holds the whole closure.
POSTGRES_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}
REDIS_FIXTURES = {"clean_redis"}
SOCKET_FIXTURES = {"simulator_server"}


def _needs(item: pytest.Item) -> set[str]:
    """What outside the pytest process `item` needs: "postgres", "redis", "socket", "processes",
    "browser" (empty for a pure test)."""
    uses = set(getattr(item, "fixturenames", ()))
    needs = set()
    if item.get_closest_marker("django_db") or uses & POSTGRES_FIXTURES:
        needs.add("postgres")
    if uses & REDIS_FIXTURES:
        needs.add("redis")
    if uses & SOCKET_FIXTURES:
        needs.add("socket")
    if item.get_closest_marker("processes"):
        needs |= {"processes", "postgres", "redis"}  # workers and beat need both
    if "chromium" in uses:
        needs |= {"browser", "postgres"}
    return needs


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        needs = _needs(item)
        if "browser" in needs:
            item.add_marker(pytest.mark.browser)
        if needs:
            item.add_marker(pytest.mark.services)


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


def pytest_collection_finish(session: pytest.Session) -> None:
    """Stop at once, saying how to start them, if the selected tests need PostgreSQL or Redis
    and they are not reachable: a suite that skips its database tests proves nothing. The
    fast tier (`-m "not services"`) needs neither, so neither is asked."""
    if session.config.option.collectonly:
        return
    needs = set().union(*(_needs(item) for item in session.items))
    checks = {"postgres": _postgres_problem, "redis": _redis_problem}
    problems = [problem for name, check in checks.items() if name in needs if (problem := check())]
    if problems:
        pytest.exit("\n".join(problems), returncode=3)


# -- the RingCentral simulator -----------------------------------------------------------------


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


# -- Redis -------------------------------------------------------------------------------------


@pytest.fixture
def clean_redis(settings) -> Iterator[redis.Redis]:
    """Redis db 15 (the broker, the fleet rate limiter, heartbeats and health keys in tests),
    empty before and after the test; REDIS_URL points at it too. Every test that touches
    Redis uses this fixture: it is what marks the test `services`."""
    settings.REDIS_URL = settings.CELERY_BROKER_URL
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def sms_settings(rc_settings, clean_redis):
    """The real RingCentral backend against the simulator, with quick retries, and a clean
    Redis db 15 (broker queue and the fleet rate limiter's keys)."""
    rc_settings.SMS_BACKEND = "ringcentral"
    rc_settings.SMS_RETRY_BASE_SECONDS = 0.2
    rc_settings.SMS_RETRY_MAX_SECONDS = 1.0
    rc_settings.SMS_MAX_ATTEMPTS = 4
    rc_settings.SMS_LEASE_SECONDS = 2.0
    rc_settings.SMS_STALE_SENDING_SECONDS = None  # derived from the worst attempt
    rc_settings.SMS_REDISPATCH_SECONDS = 3.0
    rc_settings.SMS_UNCERTAIN_SETTLE_SECONDS = 2.0
    rc_settings.SMS_DISPATCH_INTERVAL = 0.5
    rc_settings.SMS_SWEEP_INTERVAL = 1.0
    rc_settings.SMS_STATUS_POLL_INTERVAL = 1.0
    return rc_settings


# -- the broker: Redis or RabbitMQ ----------------------------------------------------------------

# RabbitMQ for the `broker` fixture's "rabbitmq" case: each test gets a vhost of its own there
# (created and deleted with rabbitmqctl), so no queue or delayed message outlives its test.
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672")
RABBITMQ_USER = "guest"
# What smsapp/settings.py sets for an amqp:// broker, for the test process's own Celery app.
RABBITMQ_CELERY_CONF = {
    "task_default_queue_type": "quorum",
    "worker_detect_quorum_queues": True,
    "task_default_exchange_type": "topic",
    "broker_native_delayed_delivery_queue_type": "quorum",
    "broker_transport_options": {"confirm_publish": True},
}


def _rabbitmqctl(*args: str) -> None:
    result = subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()[-500:]}")


def _reset_celery_connections() -> None:
    """Drop the test process's broker connections and what was built from the old settings
    (declared queues, producer pool, control mailbox): the next call uses the new ones."""
    celery_app.close()
    for cached in ("amqp", "control"):
        celery_app.__dict__.pop(cached, None)


@contextmanager
def _celery_app_on(broker_url: str, conf: dict, monkeypatch) -> Iterator[None]:
    """The test process's Celery app (which queues the send tasks and pings the workers)
    publishing to `broker_url` with `conf`, and back to what it was afterwards."""
    saved = {name: celery_app.conf[name] for name in ["broker_url", *conf]}
    # Celery reads the CELERY_BROKER_URL variable before its broker_url setting, and the test
    # run sets it (Redis db 15): both must name the new broker.
    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
    celery_app.conf.update(broker_url=broker_url, **conf)
    _reset_celery_connections()
    try:
        yield
    finally:
        monkeypatch.undo()
        celery_app.conf.update(saved)
        _reset_celery_connections()


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request, clean_redis, settings, monkeypatch) -> Iterator[str]:
    """The Celery broker of a real-worker test, "redis" or "rabbitmq"; REDIS_URL stays on Redis
    db 15 (limiter, pauses, heartbeats) either way. Worker and beat processes started with
    tests.support.processes.process_env(settings) get the same broker."""
    if request.param == "redis":
        yield "redis"
        return
    vhost = f"smsapp-test-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, RABBITMQ_USER, ".*", ".*", ".*")
        url = f"{RABBITMQ_URL}/{vhost}"
        settings.REDIS_URL = settings.CELERY_BROKER_URL  # Redis db 15, as clean_redis left it
        settings.CELERY_BROKER_URL = url
        settings.BROKER_IS_RABBITMQ = True
        with _celery_app_on(url, RABBITMQ_CELERY_CONF, monkeypatch):
            yield "rabbitmq"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


# -- people --------------------------------------------------------------------------------------


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


@pytest.fixture
def sender(django_user_model, staff_senders):
    """A member of "Staff senders": may send, see and act on every text."""
    user = django_user_model.objects.create_user("sam", password="a-long-test-password")
    user.groups.add(staff_senders)
    return user


@pytest.fixture
def sender_client(client, sender):
    client.force_login(sender)
    return client


# -- processes -----------------------------------------------------------------------------------


@pytest.fixture
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture
def base_env() -> dict[str, str]:
    """The test process's environment, pointed at the real settings module, never at .env.

    DATABASE_URL is the configured server's (not pytest's test_ copy: use
    tests.support.processes.shared_database_url() for a subprocess that reads or writes
    rows); SECRET_KEY and CELERY_BROKER_URL come from the test settings (Redis db 15).
    """
    env = dict(os.environ)
    env.pop("DEBUG", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "smsapp.settings",
            "SMSAPP_IGNORE_DOTENV": "1",
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "SECRET_KEY": settings.SECRET_KEY,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


# -- Chromium ------------------------------------------------------------------------------------

# Playwright's own browser download is not available here; Debian's package is. The flags keep
# it from reaching for the network (refused here) and let it run as root in CI.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium(monkeypatch):
    """Debian's Chromium through Playwright, for the browser tests."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread, which makes Django refuse ORM
    # calls from it; the test's own queries never run inside that loop, so allow them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Chromium is missing: apt-get install chromium (./scripts/test does this)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # ORM calls made while Playwright's loop is active get connections of their own (per
        # loop context), which pytest-django's teardown does not see: close them here, inside
        # that context, or the test database stays in use.
        connections.close_all()
