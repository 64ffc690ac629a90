"""Fixtures for running the project's own commands (manage.py, celery) as subprocesses."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import redis
from django.conf import settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture
def base_env() -> dict[str, str]:
    """The test process's environment, pointed at the real settings module, never at .env.

    DATABASE_URL is the configured server's (not pytest's test_ copy: use
    tests.shared_db.shared_database_url() for a subprocess that reads or writes rows);
    SECRET_KEY and CELERY_BROKER_URL come from the test settings (Redis db 15).
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


@pytest.fixture
def sms_settings(rc_settings):
    """The real RingCentral backend against the simulator, with quick retries, and a clean
    Redis db 15 (broker queue and the fleet rate limiter's keys)."""
    redis.Redis.from_url(rc_settings.CELERY_BROKER_URL).flushdb()
    rc_settings.SMS_BACKEND = "ringcentral"
    rc_settings.REDIS_URL = rc_settings.CELERY_BROKER_URL
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
    yield rc_settings
    redis.Redis.from_url(rc_settings.CELERY_BROKER_URL).flushdb()


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
