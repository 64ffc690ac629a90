"""smsapp/quiet_logs.py: housekeeping that found nothing to do stays out of the INFO log;
everything else stays in."""

from __future__ import annotations

import logging

import pytest

from smsapp.quiet_logs import QuietHousekeeping


def _record(name: str, msg: str, args: object, level: int = logging.INFO) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, msg, None, None)
    record.args = args  # as Celery passes them: a tuple, or one dict
    return record


SUCCESS = "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s"


@pytest.mark.parametrize(
    "record",
    [
        _record(
            "celery.beat",
            "Scheduler: Sending due task %s (%s)",
            ("sms-dispatch-due", "smsapp.dispatch_due"),
        ),
        _record(
            "celery.worker.strategy",
            "Task %(name)s[%(id)s] received",
            {"name": "smsapp.check_delivery", "id": "1"},
        ),
        _record(
            "celery.app.trace",
            SUCCESS,
            {"name": "smsapp.reconcile_stuck", "id": "1", "runtime": 0.01, "return_value": "0"},
        ),
        _record(
            "celery.app.trace",
            SUCCESS,
            {
                "name": "auth_tokens.keep_alive",
                "id": "1",
                "runtime": 0.01,
                "return_value": "'fresh: nothing to do'",
            },
        ),
    ],
)
def test_idle_housekeeping_lines_are_dropped_at_info(record):
    logging.getLogger(record.name).setLevel(logging.INFO)
    assert QuietHousekeeping().filter(record) is False
    logging.getLogger(record.name).setLevel(logging.DEBUG)
    try:
        assert QuietHousekeeping().filter(record) is True  # `-l debug` still shows them
    finally:
        logging.getLogger(record.name).setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    "record",
    [
        _record(
            "celery.app.trace",
            SUCCESS,
            {  # it did something
                "name": "smsapp.dispatch_due",
                "id": "1",
                "runtime": 0.01,
                "return_value": "3",
            },
        ),
        _record(
            "celery.app.trace",
            SUCCESS,
            {  # not housekeeping: every send is logged
                "name": "smsapp.send_message",
                "id": "1",
                "runtime": 0.2,
                "return_value": "'sent as 1'",
            },
        ),
        _record(
            "celery.worker.strategy",
            "Task %(name)s[%(id)s] received",
            {"name": "smsapp.send_message", "id": "1"},
        ),
        _record(
            "celery.app.trace",
            "Task %(name)s[%(id)s] %(description)s: %(exc)s",
            {"name": "smsapp.reconcile_stuck", "id": "1", "description": "raised", "exc": "boom"},
            logging.ERROR,
        ),
    ],
)
def test_work_done_sends_and_failures_are_still_logged(record):
    logging.getLogger(record.name).setLevel(logging.INFO)
    try:
        assert QuietHousekeeping().filter(record) is True
    finally:
        logging.getLogger(record.name).setLevel(logging.NOTSET)
