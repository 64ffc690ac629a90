"""Fields every log line of a unit of work carries: which text, which RingCentral request.

A Celery task opens a context (smsapp.celery, for every task; the send task adds the text's
id), and the code below it notes what it learns (ringcentral_call: the RCRequestId of each
answer). The JSON log format (smsapp.log_format) writes the fields on every line logged inside,
by whichever module logs it, so the token service's lines during a send name the text too.

Outside any context, note() does nothing: a field noted by one task must never stick to the
lines of the next one the same process runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# The names a line may carry; anything else passed here is a programming error.
FIELDS = ("message_id", "ringcentral_request_id", "error_code")
_fields: ContextVar[dict[str, str] | None] = ContextVar("smsapp_log_fields", default=None)


@contextmanager
def log_fields(**fields: object) -> Iterator[None]:
    """Inside the block, every log line carries `fields` (and those of an enclosing block)."""
    _check(fields)
    outer = _fields.get() or {}
    token = _fields.set({**outer, **{k: str(v) for k, v in fields.items() if v not in (None, "")}})
    try:
        yield
    finally:
        _fields.reset(token)


def note(**fields: object) -> None:
    """Add fields to the innermost open block, for the rest of it; no-op outside any block."""
    _check(fields)
    current = _fields.get()
    if current is not None:
        current.update({k: str(v) for k, v in fields.items() if v not in (None, "")})


def current() -> dict[str, str]:
    return dict(_fields.get() or {})


def _check(fields: dict[str, object]) -> None:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown log field(s): {', '.join(sorted(unknown))}")
