"""WSGI entry point for production servers (gunicorn smsapp.wsgi)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from smsapp.bootstrap import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsapp.settings")
load_settings_or_exit()

application = get_wsgi_application()
