"""ringcentral_sim/ratelimit.py: rate-limit groups, their headers, 429 with Retry-After, and the
restarting penalty."""

from __future__ import annotations

from tests.ringcentral_sim.rc_http import error_code


def test_auth_group_allows_five_a_minute_then_429_with_retry_after(rc, simulator):
    answers = [rc.password_login() for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert [a.headers["X-Rate-Limit-Remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    throttled = answers[5]
    assert throttled.headers["Retry-After"] == "60"
    assert throttled.headers["X-Rate-Limit-Group"] == "Auth"
    assert throttled.headers["X-Rate-Limit-Limit"] == "5"
    assert throttled.headers["X-Rate-Limit-Window"] == "60"
    assert error_code(throttled) == "CMN-301"
    counters = simulator.counters()
    assert counters["rate_limited"] == {"Auth": 1}
    assert counters["token_requests"]["password"] == {"ok": 5, "429": 1}


def test_a_request_during_the_penalty_restarts_it(rc, simulator):
    simulator.configure(penalty_seconds=60)
    for _ in range(6):
        rc.password_login()
    simulator.advance_clock(50)
    during = rc.password_login()
    assert during.status_code == 429
    assert during.headers["Retry-After"] == "60"
    # 61 s after the first 429, but only 11 s after the one that restarted the penalty.
    simulator.advance_clock(11)
    assert rc.password_login().status_code == 429
    simulator.advance_clock(61)
    assert rc.password_login().status_code == 200


def test_waiting_out_retry_after_is_enough(rc, simulator):
    for _ in range(6):
        rc.password_login()
    simulator.advance_clock(61)
    assert rc.password_login().status_code == 200


def test_sms_is_in_the_medium_group_and_throttles_with_msg_305(rc, simulator, access_token):
    simulator.configure(rate_limits={"Auth": 5, "Medium": 3, "Light": 50, "Heavy": 10})
    answers = [rc.send_sms(access_token, text=f"n{i}") for i in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-Rate-Limit-Group"] == "Medium"
    assert error_code(answers[3]) == "MSG-305"
    assert simulator.counters()["sms_accepted"] == 3
    # Reads are in another group and are not throttled by the SMS penalty.
    assert rc.api("GET", "/phone-number", access_token).headers["X-Rate-Limit-Group"] == "Light"


def test_limits_are_per_user_and_app(rc, simulator):
    user = simulator.config()["users"][0]
    other = user | {
        "username": "+16505550111",
        "extension": "102",
        "jwt": "other-jwt",
        "extension_id": "400000102",
    }
    simulator.configure(users=[user, other])
    for _ in range(5):
        assert rc.password_login().status_code == 200
    assert rc.password_login().status_code == 429
    assert rc.jwt_login("other-jwt").status_code == 200
