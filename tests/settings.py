"""Test settings: the real settings module, pinned to PostgreSQL and Redis db 15."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

# Before importing smsapp.settings, which reads the environment at import time.
os.environ["SMSAPP_IGNORE_DOTENV"] = "1"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smsapp")
os.environ.setdefault("SECRET_KEY", "tests-only-insecure-key")
# Redis db 15 so tests never touch a developer's queue on db 0.
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")

from smsapp.settings import *  # noqa: F403
from smsapp.settings import DATABASES

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "tests need PostgreSQL: SQLite ignores select_for_update; set DATABASE_URL=postgres://..."
    )

# Static files from the apps' folders, as in development: tests (and the browser test's live
# server) run without collectstatic.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = True
