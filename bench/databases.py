"""The benches' own PostgreSQL databases: made from scratch for each run (or kept, when asked),
never the developer's or the tests'."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg


def _server_and_name(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts._replace(path="/postgres").geturl(), parts.path.lstrip("/")


def database_exists(url: str) -> bool:
    server, name = _server_and_name(url)
    with psycopg.connect(server, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def recreate_database(url: str) -> None:
    server, name = _server_and_name(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
