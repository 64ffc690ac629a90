"""Calling a service from several threads at once, as several processes would: each thread on
a PostgreSQL connection of its own (Django's are per thread), closed when it ends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def run_in_threads(
    function: Callable[[], T], count: int = 2, *, timeout: float = 30.0
) -> tuple[list[T], list[BaseException]]:
    """Start `count` threads calling `function`, wait for them; what they returned and what
    they raised. A test that needs them to meet first puts a threading.Barrier in `function`."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(function())
        except BaseException as error:  # reported to the test, which asserts on it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results, errors
