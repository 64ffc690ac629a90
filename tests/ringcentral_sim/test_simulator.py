"""ringcentral_sim/simulator.py: requests as the simulator reads them, and the API version
endpoint that needs no token."""

from __future__ import annotations

import requests

from ringcentral_sim.simulator import Request


def test_request_keeps_repeated_query_keys_and_builds_page_links():
    request = Request.with_query_string(
        "direction=Inbound&page=1&direction=Outbound&perPage=2",
        method="GET",
        path="/restapi/v1.0/account/~/extension/~/message-store",
        headers={},
        body=b"",
        base_url="http://127.0.0.1:1",
    )
    assert request.values("direction") == ["Inbound", "Outbound"]
    assert request.values("missing") == []
    assert request.query["direction"] == "Inbound"
    assert request.uri_with(page="3") == (
        "http://127.0.0.1:1/restapi/v1.0/account/~/extension/~/message-store"
        "?direction=Inbound&page=3&direction=Outbound&perPage=2"
    )
    assert request.uri_with(dateTo="x").endswith("&perPage=2&dateTo=x")


def test_api_version_answers_without_a_token(simulator):
    answer = requests.get(f"{simulator.url}/restapi/v1.0", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["uriString"] == "v1.0"
