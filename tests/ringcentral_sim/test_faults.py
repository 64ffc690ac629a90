"""ringcentral_sim/faults.py: 503s, latency, and the ambiguous processed-then-dropped answer."""

from __future__ import annotations

import time

import pytest
import requests

from tests.ringcentral_sim.rc_http import error_code


def test_error_rate_one_answers_503_msg_290_and_sends_nothing(rc, simulator, access_token):
    simulator.configure(error_rate=1.0)
    answer = rc.send_sms(access_token)
    assert answer.status_code == 503
    assert error_code(answer) == "MSG-290"
    assert simulator.counters()["sms_accepted"] == 0


def test_random_faults_leave_the_token_endpoint_alone_by_default(rc, simulator):
    simulator.configure(error_rate=1.0)
    assert rc.password_login().status_code == 200


def test_scripted_errors_hit_the_next_requests_of_their_group_only(rc, simulator, access_token):
    simulator.inject_fault("error", group="Medium", count=2, retry_after=7)
    assert rc.api("GET", "/phone-number", access_token).status_code == 200
    first, second, third = (rc.send_sms(access_token, text=f"t{i}") for i in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["Retry-After"] == "7"
    assert simulator.counters()["sms_accepted"] == 1


def test_dropped_connection_records_the_message_the_client_never_heard_about(
    rc, simulator, access_token
):
    simulator.inject_fault("drop", group="Medium")
    with pytest.raises(requests.ConnectionError):
        rc.send_sms(access_token, to="+16505550188", text="Did this go out?")
    stored = simulator.messages()
    assert [(m["to"][0]["phoneNumber"], m["subject"]) for m in stored] == [
        ("+16505550188", "Did this go out?")
    ]
    assert simulator.counters()["faults"] == {"drop": 1}


def test_slow_answer_after_processing_times_out_the_client_but_is_recorded(
    rc, simulator, access_token
):
    simulator.inject_fault("delay_after", group="Medium", seconds=1.5)
    with pytest.raises(requests.ReadTimeout):
        rc.send_sms(access_token, timeout=0.5)
    assert simulator.counters()["sms_accepted"] == 1


def test_drop_rate_one_drops_every_sms_answer(rc, simulator, access_token):
    simulator.configure(drop_rate=1.0, seed=7)
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            rc.send_sms(access_token, text=str(time.time()))
    assert simulator.counters()["sms_accepted"] == 2


def test_latency_is_added_to_every_request(rc, simulator, access_token):
    simulator.configure(latency_ms=300)
    started = time.monotonic()
    rc.api("GET", "/phone-number", access_token)
    assert time.monotonic() - started >= 0.3


def test_control_api_rejects_an_unknown_fault_kind(simulator):
    with pytest.raises(ValueError, match="kind must be one of"):
        simulator.inject_fault("explode")


def test_drop_before_processing_records_nothing(rc, simulator, access_token):
    simulator.inject_fault("drop_before", group="Medium")
    with pytest.raises(requests.ConnectionError):
        rc.send_sms(access_token)
    assert simulator.counters()["sms_accepted"] == 0


def test_injected_429_looks_like_a_real_throttle(rc, simulator, access_token):
    simulator.configure(rate_limits={"Auth": 5, "Medium": 40, "Light": 50, "Heavy": 10})
    simulator.inject_fault("error", group="Medium", status=429)
    answer = rc.send_sms(access_token)
    assert answer.status_code == 429
    assert error_code(answer) == "MSG-305"
    assert answer.headers["Retry-After"] == "60"  # the fault named none
    assert answer.headers["X-Rate-Limit-Group"] == "Medium"
    assert answer.headers["X-Rate-Limit-Limit"] == "40"
    assert answer.headers["X-Rate-Limit-Remaining"] == "0"
    assert answer.headers["X-Rate-Limit-Window"] == "60"
    assert simulator.counters()["sms_accepted"] == 0


def test_injected_429_keeps_the_retry_after_it_names_and_its_group(rc, simulator, access_token):
    simulator.inject_fault("error", group="Light", status=429, retry_after=7)
    answer = rc.api("GET", "/phone-number", access_token)
    assert answer.status_code == 429
    assert error_code(answer) == "CMN-301"
    assert answer.headers["Retry-After"] == "7"
    assert answer.headers["X-Rate-Limit-Group"] == "Light"
    assert answer.headers["X-Rate-Limit-Limit"] == "50"
    assert answer.headers["X-Rate-Limit-Remaining"] == "0"


def test_injected_503_has_no_rate_limit_headers(rc, simulator, access_token):
    simulator.inject_fault("error", group="Medium")
    answer = rc.send_sms(access_token)
    assert answer.status_code == 503
    assert "X-Rate-Limit-Remaining" not in answer.headers
    assert "Retry-After" not in answer.headers


def test_injected_429_can_be_asked_to_lack_retry_after(rc, simulator, access_token):
    simulator.inject_fault("error", group="Medium", status=429, retry_after=0)
    answer = rc.send_sms(access_token)
    assert answer.status_code == 429
    assert "Retry-After" not in answer.headers
    assert answer.headers["X-Rate-Limit-Remaining"] == "0"


def test_fault_retry_after_must_be_whole_seconds(simulator):
    with pytest.raises(ValueError, match="retry_after"):
        simulator.inject_fault("error", status=429, retry_after="soon")
