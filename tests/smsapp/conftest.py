"""Fixtures for running the project's own commands (manage.py, celery) as subprocesses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture
def base_env() -> dict[str, str]:
    """The test process's environment, pointed at the real settings module, never at .env.

    DATABASE_URL, SECRET_KEY and CELERY_BROKER_URL come from the test settings, so subprocesses
    use the same PostgreSQL database and Redis db 15 as the test process.
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
