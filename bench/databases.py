"""The benches' own PostgreSQL databases (made from scratch for each run, or kept when asked,
never the developer's or the tests'), and the app's settings for a bench run."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from ringcentral_sim import config as sim

ROOT = Path(__file__).resolve().parents[1]


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


def app_env(db_url: str, redis_url: str, sim_url: str, **extra: str) -> dict[str, str]:
    """The environment of the app (this process, its workers) in a bench: its own database and
    Redis, the simulator's credentials, no .env."""
    env = dict(os.environ)
    env.update(sim.app_environment(sim_url))
    env.update(
        DATABASE_URL=db_url,
        CELERY_BROKER_URL=redis_url,
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="smsapp.settings",
        SMSAPP_IGNORE_DOTENV="1",
        SECRET_KEY="bench-only-insecure-key",
        ALLOWED_HOSTS="testserver,localhost",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_app(env: dict[str, str]) -> None:
    """Migrate the bench's database and set up Django in this process with `env`; the
    simulator's per-request log is quieted (the tables are what a bench prints)."""
    import logging
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    os.environ.update(env)
    import django

    django.setup()
    logging.getLogger("ringcentral_sim").setLevel(logging.WARNING)


def open_bench_database(db_url: str, *, keep: bool, **extra: str) -> bool:
    """Django set up in this process on the bench's database `db_url`, made afresh unless
    `keep` and it exists, then migrated. Returns whether an existing (filled) one was kept.
    For the benches that read a filled database in this process, without workers."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "smsapp.settings",
        "SMSAPP_IGNORE_DOTENV": "1",
        "SECRET_KEY": "bench-only-insecure-key",
        "ALLOWED_HOSTS": "testserver",
        **extra,
    }
    kept = keep and database_exists(db_url)
    if not kept:
        recreate_database(db_url)
    start_app(env)
    return kept
