"""The two log formats: text (the default) and JSON lines (LOG_FORMAT=json).

JSON: one object per line with time, level, logger and message, the Celery task when there is
one, and, when known, message_id, ringcentral_request_id and error_code (from the log call's
`extra=` or the unit of work's smsapp.log_context). Made for log shippers that index fields.

Either way, every line goes through redact(). Secrets are kept out of log calls in the first
place (token errors carry no secret, transport errors are cleaned by
smsapp.backends.error_text.describe, token values are never formatted); this is the net under
that rule, for a message or traceback that quotes a library's text: a URL's password, an
Authorization header's credential, a JWT, a token or password field of a form or JSON body.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from smsapp import log_context
from smsapp.error_reporting import hide_url_passwords

HIDDEN = "[hidden]"
_CREDENTIAL = re.compile(r"\b(Bearer|Basic)\s+[\w\-.~+/=]+", re.IGNORECASE)
# Three base64url parts, the first a JSON header ("eyJ" is how '{"' encodes).
_JWT = re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")
# name=value (a form body, a query string) or "name": "value" (a JSON body) for the names that
# hold secrets in RingCentral's OAuth requests and answers.
_SECRET_NAMES = "|".join(
    ("access_token", "refresh_token", "password", "client_secret", "assertion", "token", "jwt")
)
_FORM_FIELD = re.compile(rf"(?i)\b({_SECRET_NAMES})=([^&\s'\"]+)")
_JSON_FIELD = re.compile(rf"(?i)([\"']({_SECRET_NAMES})[\"']\s*:\s*)[\"'][^\"']*[\"']")


def redact(text: str) -> str:
    text = hide_url_passwords(text, HIDDEN)
    text = _CREDENTIAL.sub(rf"\1 {HIDDEN}", text)
    text = _JWT.sub(HIDDEN, text)
    text = _FORM_FIELD.sub(rf"\1={HIDDEN}", text)
    return _JSON_FIELD.sub(rf'\1"{HIDDEN}"', text)


class TextFormatter(logging.Formatter):
    """The plain format, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; newlines inside a message or traceback stay escaped."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "process": record.process,
        }
        task = _celery_task()
        if task is not None:
            line["task"], line["task_id"] = task
        fields = log_context.current()
        for name in log_context.FIELDS:
            value = getattr(record, name, None)
            if value not in (None, ""):
                fields[name] = str(value)
        line.update({name: redact(value) for name, value in fields.items()})
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def _celery_task() -> tuple[str, str] | None:
    try:
        from celery._state import get_current_task
    except ImportError:  # pragma: no cover - Celery is a dependency; web-only installs differ
        return None
    task = get_current_task()
    if task is None or task.request.id is None:
        return None
    return task.name, task.request.id


class _Redacted(logging.Formatter):
    """Someone else's formatter (Celery's, with its task name and id), redacted."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def use_format(handlers: list[logging.Handler], log_format: str) -> None:
    """Give `handlers` the configured format: Celery sets up the worker's and beat's own
    handlers, with its own format, after Django's LOGGING has been applied."""
    for handler in handlers:
        current = handler.formatter or logging.Formatter()
        if log_format == "json":
            if not isinstance(current, JsonFormatter):
                handler.setFormatter(JsonFormatter())
        elif not isinstance(current, TextFormatter | _Redacted):
            handler.setFormatter(_Redacted(current))
