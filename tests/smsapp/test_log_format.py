"""Log lines: JSON with the fields a shipper indexes when LOG_FORMAT=json, and never a secret,
in either format."""

from __future__ import annotations

import json
import logging
import re
import sys
import time

import pytest

from auth_tokens.crypto import decrypt
from auth_tokens.models import RingCentralToken
from ringcentral_sim import config as sim
from smsapp import services
from smsapp.log_context import log_fields, note
from smsapp.log_format import JsonFormatter, TextFormatter, redact, use_format
from smsapp.models import Message
from tests.support.processes import Process, process_env, run_manage, wait_until

Status = Message.Status


def _record(message: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    record = logging.LogRecord(
        "smsapp.test", logging.INFO, __file__, 1, message, args, exc_info, func="f"
    )
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def _json(record: logging.LogRecord) -> dict:
    line = JsonFormatter().format(record)
    assert "\n" not in line
    return json.loads(line)


# -- redaction (both formats) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("redis://:hunter2-redis@cache:6379/0 unreachable", "hunter2-redis"),
        ("headers {'Authorization': 'Bearer SIMAT-abc123xyz'}", "SIMAT-abc123xyz"),
        ("auth Basic c2ltLWNsaWVudDpzZWNyZXQ=", "c2ltLWNsaWVudDpzZWNyZXQ="),
        ("grant_type=password&username=u&password=Pa55-word&extension=101", "Pa55-word"),
        ("grant_type=refresh_token&refresh_token=SIMRT-zzz999", "SIMRT-zzz999"),
        ('{"access_token": "SIMAT-qqq", "expires_in": 3600}', "SIMAT-qqq"),
        ("assertion=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJzdWIiOiIxIn0"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl in text", "c2lnbmF0dXJl"),
        ("client_secret=very-secret-1", "very-secret-1"),
    ],
)
def test_redact_hides_each_kind_of_secret_and_keeps_the_rest(text, secret):
    hidden = redact(text)
    assert secret not in hidden
    assert "[hidden]" in hidden


def test_redact_leaves_ordinary_lines_alone():
    line = "SMS #42 accepted by RingCentral as 5000001 (HTTP 200, MSG-242 earlier)"
    assert redact(line) == line


def test_the_text_format_redacts_too():
    formatter = TextFormatter("%(levelname)s %(name)s: %(message)s")
    line = formatter.format(_record("calling %s", "https://user:pw-secret@rc.example"))
    assert line == "INFO smsapp.test: calling https://user:[hidden]@rc.example"


# -- the JSON format --------------------------------------------------------------------------


def test_a_json_line_has_time_level_logger_and_message():
    line = _json(_record("SMS #%s accepted", 42))
    assert line["message"] == "SMS #42 accepted"
    assert line["level"] == "INFO"
    assert line["logger"] == "smsapp.test"
    assert line["time"].endswith("+00:00")
    assert "message_id" not in line  # only when known


def test_extra_fields_and_the_context_s_fields_are_written():
    with log_fields(message_id=7):
        note(ringcentral_request_id="rc-req-1")
        line = _json(_record("held", error_code="OAU-140"))
    assert line["message_id"] == "7"
    assert line["ringcentral_request_id"] == "rc-req-1"
    assert line["error_code"] == "OAU-140"
    # A field given with the call wins over the context's.
    with log_fields(message_id=7):
        assert _json(_record("x", message_id=8))["message_id"] == "8"


def test_a_traceback_stays_on_one_line_and_is_redacted():
    try:
        raise RuntimeError("POST failed: password=Hunter2-x\nsecond line")
    except RuntimeError:
        record = _record("boom", exc_info=sys.exc_info())
    line = _json(record)
    assert "Traceback" in line["exception"]
    assert "Hunter2-x" not in JsonFormatter().format(record)


def test_use_format_switches_celerys_handlers_and_keeps_them_redacted():
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    use_format([handler], "text")
    assert handler.format(_record("a Bearer abc.def")) == "[INFO] a Bearer [hidden]"
    use_format([handler], "json")
    assert json.loads(handler.format(_record("x")))["message"] == "x"


# -- the fields' context ----------------------------------------------------------------------


def test_a_note_outside_any_unit_of_work_sticks_to_nothing():
    note(ringcentral_request_id="stray")
    assert "ringcentral_request_id" not in _json(_record("later"))


def test_a_units_fields_end_with_it():
    with log_fields(message_id=1):
        note(ringcentral_request_id="inside")
    assert "message_id" not in _json(_record("after"))
    assert "ringcentral_request_id" not in _json(_record("after"))


def test_an_unknown_field_is_a_programming_error():
    with pytest.raises(TypeError, match="phone"), log_fields(phone="+16505550101"):
        pass


# -- the setting ------------------------------------------------------------------------------


@pytest.mark.processes
def test_a_log_format_other_than_text_or_json_stops_start_up_with_one_line(base_env):
    base_env["LOG_FORMAT"] = "xml"
    result = run_manage("check", env=base_env)
    assert result.returncode != 0
    assert "LOG_FORMAT must be text or json" in result.stderr
    assert "Traceback" not in result.stderr


# -- a real worker with JSON logs: the fields, and no secret ------------------------------------

PASSWORD = "Pw-only-in-settings-7Qx2"
CLIENT_SECRET = "client-secret-only-here-4Kd9"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsb2ctdGVzdCJ9.c2lnbmVkLWJ5LXRoZS10ZXN0"


def _json_worker(env: dict[str, str], tmp_path, name: str) -> Process:
    # -q: no start-up banner (printed, not logged); -l debug: every line the app could log.
    worker = Process(
        [
            "-q",
            "worker",
            "-n",
            f"{name}@localhost",
            "-c",
            "2",
            "-l",
            "debug",
            "--without-mingle",
            "--without-gossip",
        ],
        env,
        tmp_path / f"{name}.log",
    )
    wait_until(lambda: "ready" in worker.output(), 60, "the JSON-logging worker to start")
    return worker


def _tokens() -> set[str]:
    row = RingCentralToken.objects.get()
    return {decrypt(row.access_token_encrypted), decrypt(row.refresh_token_encrypted)} - {None, ""}


def _sent(count: int):
    return lambda: Message.objects.filter(status=Status.SENT).count() == count


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_a_json_logging_worker_names_texts_and_requests_and_never_logs_a_secret(
    sms_settings, simulator, tmp_path
):
    simulator.configure(
        access_token_ttl=2,
        clients=[{**sim.default_client(), "client_secret": CLIENT_SECRET}],
        users=[{**sim.default_user(), "password": PASSWORD}],
    )
    sms_settings.RINGCENTRAL_CLIENT_SECRET = CLIENT_SECRET
    sms_settings.RINGCENTRAL_PASSWORD = PASSWORD
    env = {**process_env(sms_settings), "LOG_FORMAT": "json"}
    secrets: set[str] = {PASSWORD, CLIENT_SECRET, JWT}

    worker = _json_worker(env, tmp_path, "json-a")
    try:
        [first] = services.message_create(to_numbers=["+16505550101"], text="One")
        wait_until(_sent(1), 30, "the first text (a login)")
        secrets |= _tokens()
        time.sleep(2.5)  # the access token expires: the next send refreshes it
        services.message_create(to_numbers=["+16505550102"], text="Two")
        wait_until(_sent(2), 30, "the second text (a refresh)")
        secrets |= _tokens()
        # The password changes at RingCentral and every session ends: the refresh and the
        # login that follows are refused, and the text waits for a login.
        simulator.configure(users=[{**sim.default_user(), "password": "changed-at-rc"}])
        simulator.revoke_all()
        [held] = services.message_create(to_numbers=["+16505550103"], text="Three")
        wait_until(
            lambda: Message.objects.filter(pk=held.pk, held_since__isnull=False).exists(),
            30,
            "the third text to be held",
        )
    finally:
        worker.stop()
    # Someone tries the JWT grant with a JWT RingCentral does not know: refused as well.
    worker = _json_worker({**env, "RINGCENTRAL_JWT": JWT}, tmp_path, "json-b")
    try:
        [jwt_held] = services.message_create(to_numbers=["+16505550104"], text="Four")
        wait_until(
            lambda: Message.objects.filter(pk=jwt_held.pk, held_since__isnull=False).exists(),
            30,
            "the fourth text to be held",
        )
    finally:
        worker.stop()

    output = (tmp_path / "json-a.log").read_text() + (tmp_path / "json-b.log").read_text()
    assert len(secrets) == 7  # 2 logins' and a refresh's tokens, password, secret, JWT
    leaked = [secret for secret in secrets if secret in output]
    assert leaked == []
    # Every log record is a JSON line. What Python and Celery print without logging (a
    # warning about running as root, "worker: Warm shutdown") is not a record; no record may
    # have escaped in another format ("[2026-...: INFO/...]" or "2026-... INFO ...").
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    others = [line for line in output.splitlines() if line.strip() and not line.startswith("{")]
    assert not [line for line in others if re.match(r"\[?\d{4}-\d\d-\d\d", line)]
    assert len(lines) > 50  # debug level: the test looked at a real amount of logging

    accepted = [line for line in lines if line["message"].startswith(f"SMS #{first.pk} accepted")]
    assert accepted
    assert accepted[0]["message_id"] == str(first.pk)
    assert accepted[0]["task"] == "smsapp.send_message"
    assert accepted[0]["ringcentral_request_id"]
    held_lines = [line for line in lines if line.get("message_id") == str(held.pk)]
    assert any(line.get("error_code", "").startswith("OAU-") for line in held_lines)
    refusals = [line for line in lines if line["logger"] == "auth_tokens.client"]
    kinds = {line["message"].split()[3] for line in refusals}
    assert kinds == {"refresh", "login"}
    assert all(line["error_code"] and line["ringcentral_request_id"] for line in refusals)
