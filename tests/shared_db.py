"""The test database's URL, for OS processes (workers, racers) that must see the same rows."""

from __future__ import annotations

from django.db import connection


def shared_database_url() -> str:
    """Only meaningful with transaction=True tests: other processes see committed rows only."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
