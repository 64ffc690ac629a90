"""Project package: settings, URLs, WSGI/ASGI entry points and the Celery app."""

from __future__ import annotations

# Imported here so the Celery app is set up whenever Django starts and @shared_task binds to it.
from smsapp.celery import app as celery_app

__all__ = ["celery_app"]
