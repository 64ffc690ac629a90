"""gunicorn's settings for the web container (Dockerfile's CMD): metrics and log format.

- Metrics (docs/metrics.md): each gunicorn worker writes its counts to files named by its PID
  in PROMETHEUS_MULTIPROC_DIR, which docker/entrypoint.sh empties before gunicorn starts; when
  a worker exits, its files are marked dead so per-process gauges of a dead process go away.
- LOG_FORMAT=json: gunicorn's own lines (start-up, worker timeouts) and its access lines are
  JSON objects like the app's (smsapp.log_format), not gunicorn's own text format.
"""

from __future__ import annotations

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    _json_to_stdout = {"handlers": ["json"], "level": "INFO", "propagate": False}
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "smsapp.log_format.JsonFormatter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {"gunicorn.error": _json_to_stdout, "gunicorn.access": _json_to_stdout},
    }
