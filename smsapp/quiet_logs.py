"""Quiet housekeeping: the periodic tasks' "sent/received/succeeded" lines only when they did
something.

Beat runs the dispatcher, sweeper, status poller and probes every few seconds. Logged at INFO,
an idle local run printed about 200 lines a minute, three quarters of them these, burying the
lines a person is looking for. A run that found nothing is logged at DEBUG instead (shown only
with `-l debug`); a run that did something, and every failure, is logged as before.
"""

from __future__ import annotations

import logging
from typing import Any

HOUSEKEEPING = frozenset(
    {
        "smsapp.dispatch_due",
        "smsapp.reconcile_stuck",
        "smsapp.check_delivery",
        "smsapp.probe_ringcentral",
        "auth_tokens.keep_alive",
    }
)
# What these tasks return when they found nothing to do (counts, or "nothing due" words).
NOTHING = frozenset({"0", "None", "''", "'HTTP 200'", "'fresh: nothing to do'"})


class QuietHousekeeping(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not _is_idle_housekeeping(record):
            return True
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def _is_idle_housekeeping(record: logging.LogRecord) -> bool:
    args: Any = record.args
    if record.name == "celery.beat" and isinstance(args, tuple) and len(args) == 2:
        return args[1] in HOUSEKEEPING  # "Scheduler: Sending due task NAME (TASK)"
    if isinstance(args, dict) and args.get("name") in HOUSEKEEPING:
        if "return_value" in args:  # "... succeeded in 0.01s: 0"
            return str(args["return_value"]) in NOTHING
        return "runtime" not in args and "exc" not in args  # "... received"
    return False


def install(logger: logging.Logger | None = None, **kwargs: Any) -> None:
    """On every handler of the root logger (and `logger`'s), where Celery's lines go."""
    quiet = QuietHousekeeping()
    loggers = [logging.getLogger()] + ([logger] if logger is not None else [])
    for target in loggers:
        for handler in target.handlers:
            if not any(isinstance(f, QuietHousekeeping) for f in handler.filters):
                handler.addFilter(quiet)
