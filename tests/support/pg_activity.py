"""What PostgreSQL itself says about the token row's lock: who holds it, who waits and for how
long. Read from pg_stat_activity and pg_locks on a connection of the test's own, so the figures
are the server's, not what the processes believe."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

TOKEN_TABLE = "auth_tokens_ringcentraltoken"


@dataclass(frozen=True)
class Session:
    pid: int
    client_port: int | None


def token_lock_holders(conn: psycopg.Connection) -> list[Session]:
    """Sessions inside a renewal: they hold the token table's FOR UPDATE lock and are idle in
    their transaction (waiting on RingCentral, or cut off). A waiter holds the table lock too,
    but is active, waiting on the row."""
    rows = conn.execute(
        "SELECT a.pid, a.client_port FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
        " WHERE l.locktype = 'relation' AND l.relation = %s::regclass"
        " AND l.mode = 'RowShareLock' AND l.granted"
        " AND a.state LIKE 'idle in transaction%%' AND a.pid <> pg_backend_pid()",
        [TOKEN_TABLE],
    ).fetchall()
    return [Session(pid, port) for pid, port in rows]


def session_alive(conn: psycopg.Connection, pid: int) -> bool:
    return bool(conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone())


def longest_lock_waits(conn: psycopg.Connection) -> tuple[float, float]:
    """Seconds the longest-waiting session of this database has been waiting for a lock: on
    the token table, and on anything else."""
    row = conn.execute(
        "SELECT coalesce(max(wait) FILTER (WHERE token), 0),"
        " coalesce(max(wait) FILTER (WHERE NOT token), 0) FROM ("
        "  SELECT extract(epoch FROM clock_timestamp() - query_start) AS wait,"
        "   query LIKE %s AS token"
        "  FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        "  AND datname = current_database() AND pid <> pg_backend_pid()) waits",
        [f"%{TOKEN_TABLE}%"],
    ).fetchone()
    return float(row[0]), float(row[1])


class LockWaitWatch:
    """The longest lock waits seen while the block runs: for the token row, and for any
    other row."""

    def __init__(self) -> None:
        self.token_row = 0.0
        self.other = 0.0
        self.samples = 0


@contextmanager
def watching_lock_waits(database_url: str, interval: float = 0.1) -> Iterator[LockWaitWatch]:
    watch = LockWaitWatch()
    stop = threading.Event()

    def sample() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not stop.is_set():
                token_row, other = longest_lock_waits(conn)
                watch.token_row = max(watch.token_row, token_row)
                watch.other = max(watch.other, other)
                watch.samples += 1
                stop.wait(interval)

    thread = threading.Thread(target=sample, name="lock-wait-watch", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        stop.set()
        thread.join(timeout=10)
