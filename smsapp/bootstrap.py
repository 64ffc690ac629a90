"""Load Django settings early so a configuration error is one line on stderr, not a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

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
    # Timing rules between settings guard exactly-once sending: a worker or web process must
    # not start with them broken (`manage.py check` reports the same lines).
    from smsapp.timing import timing_problems

    problems = timing_problems()
    if problems:
        sys.exit("\n".join(f"Configuration error: {line}" for _, line in problems))


@contextmanager
def database_errors_in_one_line(argv: list[str]) -> Iterator[None]:
    """A database that is down or missing is a configuration problem for whoever runs a
    command: say so in one line (--traceback still shows everything)."""
    from django.db.utils import OperationalError

    try:
        yield
    except OperationalError as exc:
        if "--traceback" in argv:
            raise
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        sys.exit(
            f"Database error: {first_line}. Check DATABASE_URL and that the database server is "
            "running and the database exists (add --traceback for details)."
        )
