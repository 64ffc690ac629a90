"""/metrics: only with the bearer token; without METRICS_TOKEN it does not exist."""

from __future__ import annotations

import logging

import pytest

from tests.metrics.conftest import TOKEN, scrape

pytestmark = pytest.mark.django_db


def test_without_a_configured_token_the_endpoint_does_not_exist(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    # Not even an empty bearer token opens it.
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
    ],
)
def test_a_request_without_the_right_token_is_refused(client, metrics_settings, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"smsapp_" not in response.content


def test_a_refusal_never_logs_the_token_tried(client, metrics_settings, caplog):
    guess = "guessed-token-that-must-not-be-logged"
    with caplog.at_level(logging.DEBUG):
        assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {guess}").status_code == 401
    assert caplog.records  # Django logs the 401 ("Unauthorized: /metrics")
    assert guess not in caplog.text
    assert TOKEN not in caplog.text


def test_with_the_token_prometheus_gets_its_text_format(client, metrics_settings):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]
    assert scrape(client).value("smsapp_metrics_part_up", part="queue") == 1


def test_the_scheme_is_case_insensitive_as_http_says(client, metrics_settings):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"bearer {TOKEN}")
    assert response.status_code == 200


def test_only_reads_are_allowed(client, metrics_settings):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405
