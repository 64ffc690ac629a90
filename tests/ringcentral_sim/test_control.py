"""ringcentral_sim/control.py and the /_sim/* control API: reset, sessions without token
values, and refusing what a web page could send."""

from __future__ import annotations

import pytest
import requests


def test_reset_restores_defaults_and_forgets_everything(rc, simulator, access_token):
    simulator.configure(access_token_ttl=5)
    rc.send_sms(access_token)
    simulator.reset()
    assert simulator.config()["access_token_ttl"] == 3600
    counters = simulator.counters()
    assert counters["sms_accepted"] == 0
    assert counters["live_sessions"] == 0
    assert rc.api("GET", "/phone-number", access_token).status_code == 401


def test_sessions_list_never_shows_token_values(rc, simulator):
    tokens = rc.login_tokens()
    listing = requests.get(f"{simulator.url}/_sim/sessions", timeout=10).text
    assert tokens["access_token"] not in listing
    assert tokens["refresh_token"] not in listing
    assert simulator.sessions()[0]["user"] == "+16505550100*101"


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
