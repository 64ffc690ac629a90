"""Load Django settings early so a configuration error is one line on stderr, not a traceback."""

from __future__ import annotations

import os
import sys

from django.core.exceptions import ImproperlyConfigured


def load_settings_or_exit() -> None:
    """Force the settings to load; on a configuration error print one line and exit 1."""
    # If the settings module is already in sys.modules it has either loaded (so there is no
    # error left to report) or is mid-import: tests/settings.py imports smsapp.settings, which
    # imports this package, whose celery.py calls us. Loading settings then would freeze a
    # half-built settings object, so leave it to whoever is importing it.
    if os.environ.get("DJANGO_SETTINGS_MODULE", "") in sys.modules:
        return

    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - the attribute access is what loads the settings
    except ImproperlyConfigured as exc:
        sys.exit(f"Configuration error: {exc}")
