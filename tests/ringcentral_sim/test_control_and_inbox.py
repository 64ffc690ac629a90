"""The control API, the inbox page, and running the simulator by hand."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ringcentral_sim import SimulatorControl
from ringcentral_sim.__main__ import build_config, make_parser
from ringcentral_sim.config import REAL_STORE_SETTINGS
from ringcentral_sim.messages import MessageStore

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_setting_is_refused_with_its_name(simulator):
    with pytest.raises(ValueError, match="unknown setting"):
        simulator.configure(acess_token_ttl=5)
    with pytest.raises(ValueError, match="access_token_ttl must be a int"):
        simulator.configure(access_token_ttl="soon")


def test_reset_restores_defaults_and_forgets_everything(rc, simulator, access_token):
    simulator.configure(access_token_ttl=5)
    rc.send_sms(access_token)
    simulator.reset()
    assert simulator.config()["access_token_ttl"] == 3600
    counters = simulator.counters()
    assert counters["sms_accepted"] == 0
    assert counters["live_sessions"] == 0
    assert rc.api("GET", "/phone-number", access_token).status_code == 401


def test_api_version_answers_without_a_token(simulator):
    answer = requests.get(f"{simulator.url}/restapi/v1.0", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["uriString"] == "v1.0"


def test_sessions_list_never_shows_token_values(rc, simulator):
    tokens = rc.login_tokens()
    listing = requests.get(f"{simulator.url}/_sim/sessions", timeout=10).text
    assert tokens["access_token"] not in listing
    assert tokens["refresh_token"] not in listing
    assert simulator.sessions()[0]["user"] == "+16505550100*101"


def test_inbox_page_lists_texts_newest_first_and_escapes_them(rc, simulator, access_token):
    rc.send_sms(access_token, to="+16505550101", text="first")
    rc.send_sms(access_token, to="+16505550102", text="<script>alert(1)</script>")
    page = requests.get(f"{simulator.url}/", timeout=10)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "&lt;script&gt;" in page.text
    assert "<script>" not in page.text
    assert page.text.index("+16505550102") < page.text.index("+16505550101")


def test_inbox_reloads_only_when_asked_and_labels_cells_for_phones(rc, simulator, access_token):
    rc.send_sms(access_token, to="+16505550101", text="hello")
    quiet = requests.get(f"{simulator.url}/", timeout=10).text
    assert 'http-equiv="refresh"' not in quiet
    assert 'data-label="To"' in quiet  # the phone layout shows each cell with its label
    watching = requests.get(f"{simulator.url}/?refresh=5", timeout=10).text
    assert '<meta http-equiv="refresh" content="5">' in watching


def test_message_ids_do_not_restart_with_the_simulator():
    before = MessageStore()._ids
    time.sleep(0.01)
    after_restart = MessageStore()._ids  # what a restarted simulator starts from
    first, second = next(before), next(after_restart)
    assert second > first > 1_700_000_000_000  # from the clock, not from the same number


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_runs_by_hand_with_one_command(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ringcentral_sim", "--port", str(port), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        control = SimulatorControl(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 15
        while True:
            try:
                assert control.counters()["sms_accepted"] == 0
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "simulator did not start"
                time.sleep(0.1)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}" in output


def test_busy_port_is_a_one_line_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "ringcentral_sim", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_command_line_switches_for_the_real_store_and_no_password_grant():
    config = build_config(
        make_parser().parse_args(["--real-store", "--no-password-grant", "--from-number", "+1650"])
    )
    assert config.password_grant_allowed is False
    assert all(getattr(config, name) == value for name, value in REAL_STORE_SETTINGS.items())
    assert config.users[0]["phone_numbers"][0]["phoneNumber"] == "+1650"
    plain = build_config(make_parser().parse_args([]))
    assert plain.password_grant_allowed is True
    assert plain.store_numbers_without_plus is False
    assert plain.store_list_lag_seconds == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "text/plain"}, 415),  # a cross-site "simple" POST
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "application/json", "Host": "evil.example"}, 403),  # DNS rebinding
        ({"Content-Type": "application/json", "Origin": "http://evil.example"}, 403),
        ({"Content-Type": "application/json", "Origin": "null"}, 403),
    ],
)
def test_the_control_api_refuses_what_a_web_page_could_send(simulator, headers, status):
    before = simulator.config()["latency_ms"]
    response = requests.post(
        f"{simulator.url}/_sim/config", data='{"latency_ms": 999}', headers=headers, timeout=10
    )
    assert response.status_code == status
    assert simulator.config()["latency_ms"] == before
    assert requests.post(
        f"{simulator.url}/_sim/reset", headers=headers, timeout=10
    ).status_code == (status)


def test_the_inbox_and_control_reads_refuse_a_rebinding_host(simulator):
    for path in ("/", "/_sim/messages", "/_sim/config"):
        response = requests.get(
            f"{simulator.url}{path}", headers={"Host": "evil.example"}, timeout=10
        )
        assert response.status_code == 403


def test_local_json_requests_and_the_api_version_still_work(simulator):
    response = requests.post(
        f"{simulator.url}/_sim/config",
        json={"latency_ms": 5},
        headers={"Origin": simulator.url, "Host": "localhost"},
        timeout=10,
    )
    assert response.status_code == 200
    assert simulator.config()["latency_ms"] == 5
    # The app reaches the API from other hosts (docker compose): only /_sim and / are local.
    api = requests.get(
        f"{simulator.url}/restapi/v1.0", headers={"Host": "simulator:8765"}, timeout=10
    )
    assert api.status_code == 200
