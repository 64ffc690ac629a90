"""ringcentral_sim/__main__.py: running the simulator by hand, its switches and a busy port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import requests

from ringcentral_sim import SimulatorControl
from ringcentral_sim.__main__ import build_config, make_parser
from ringcentral_sim.config import REAL_STORE_SETTINGS
from tests.support.processes import PROJECT_ROOT, run_python, wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.processes
def test_runs_by_hand_with_one_command(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ringcentral_sim", "--port", str(port), "--quiet"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    control = SimulatorControl(f"http://127.0.0.1:{port}")

    def counters() -> dict | None:
        try:
            return control.counters()
        except requests.ConnectionError:
            return None  # not listening yet

    try:
        assert wait_until(counters, 15, "the simulator to start")["sms_accepted"] == 0
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}" in output


@pytest.mark.processes
def test_busy_port_is_a_one_line_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = run_python("-m", "ringcentral_sim", "--port", str(port), env=dict(os.environ))
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
