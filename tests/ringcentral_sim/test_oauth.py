"""ringcentral_sim/oauth.py: the token endpoint (grants, rotation, expiry, revocation, session
limits, client errors), and catching a refresh race: the whole reason the simulator exists."""

from __future__ import annotations

import threading

import pytest
import requests

from ringcentral_sim import SimulatorControl
from ringcentral_sim.config import default_client
from tests.ringcentral_sim.rc_http import RcHttp, error_code


def test_password_login_returns_a_pair_with_configured_lifetimes(rc, simulator):
    simulator.configure(access_token_ttl=1200, refresh_token_ttl=86400)
    answer = rc.password_login()
    assert answer.status_code == 200
    tokens = answer.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 1200
    assert tokens["refresh_token_expires_in"] == 86400
    assert tokens["access_token"] != tokens["refresh_token"]
    assert rc.api("GET", "/phone-number", tokens["access_token"]).status_code == 200


def test_extension_may_ride_in_the_username(rc):
    answer = rc.password_login(username="+16505550100*101", extension="")
    assert answer.status_code == 200


def test_wrong_password_is_oau_140_invalid_grant(rc):
    answer = rc.password_login(password="not-the-password")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert error_code(answer) == "OAU-140"


def test_unknown_extension_of_a_known_user_is_oau_136(rc):
    answer = rc.password_login(extension="999")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert error_code(answer) == "OAU-136"
    # Also when the extension rides in the username, and whatever the password.
    unknown_in_name = rc.password_login(username="+16505550100*999", extension="", password="x")
    assert error_code(unknown_in_name) == "OAU-136"


def test_unknown_username_is_oau_140_not_136(rc):
    assert error_code(rc.password_login(username="+16505550999", extension="101")) == "OAU-140"


@pytest.mark.parametrize("state", ["Disabled", "NotActivated"])
def test_extension_that_may_not_log_in_is_oau_141(rc, simulator, state):
    user = simulator.config()["users"][0] | {"state": state}
    simulator.configure(users=[user])
    for answer in (rc.password_login(), rc.jwt_login()):
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_grant"
        assert error_code(answer) == "OAU-141"


def test_jwt_login_works_and_a_wrong_jwt_is_rejected(rc):
    assert rc.jwt_login().status_code == 200
    bad = rc.jwt_login("not-a-registered-jwt")
    assert bad.status_code == 400
    assert error_code(bad) == "OAU-140"


def test_grant_the_app_is_not_registered_for_is_oau_251(rc, simulator):
    client = default_client() | {"grants": ["jwt", "refresh_token"]}
    simulator.configure(clients=[client])
    answer = rc.password_login()
    assert answer.status_code == 400
    assert answer.json()["error"] == "unauthorized_client"
    assert error_code(answer) == "OAU-251"
    assert rc.jwt_login().status_code == 200


@pytest.mark.parametrize(
    ("client", "code"),
    [
        (("sim-client-id", "wrong-secret"), "OAU-146"),
        (("unknown-client", "sim-client-secret"), "OAU-153"),
    ],
)
def test_bad_client_credentials_say_which(rc, client, code):
    answer = rc.token(
        client=client, grant_type="password", username="+16505550100", password="sim-password"
    )
    assert answer.json()["error"] == "invalid_client"
    assert error_code(answer) == code


def test_missing_client_authentication_is_oau_123(rc):
    answer = rc.http.post(
        f"{rc.url}/restapi/oauth/token", data={"grant_type": "password"}, timeout=10
    )
    assert answer.status_code == 401
    assert error_code(answer) == "OAU-123"


def test_sandbox_app_against_production_is_oau_165(rc, simulator):
    simulator.configure(clients=[default_client() | {"environment": "sandbox"}])
    assert error_code(rc.password_login()) == "OAU-165"


def test_mfa_blocks_the_password_grant_but_not_jwt(rc, simulator):
    user = simulator.config()["users"][0] | {"state": "MfaRequired"}
    simulator.configure(users=[user])
    assert error_code(rc.password_login()) == "OAU-168"
    assert rc.jwt_login().status_code == 200


def test_refresh_rotates_and_kills_the_old_access_token_at_once(rc, simulator):
    first = rc.login_tokens()
    answer = rc.refresh(first["refresh_token"])
    assert answer.status_code == 200
    second = answer.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    old = rc.api("GET", "/phone-number", first["access_token"])
    assert old.status_code == 401
    assert error_code(old) == "OAU-129"
    assert rc.api("GET", "/phone-number", second["access_token"]).status_code == 200


def test_reused_refresh_token_after_grace_is_oau_213_and_counted(rc, simulator):
    simulator.configure(refresh_grace_seconds=10)
    first = rc.login_tokens()
    second = rc.refresh(first["refresh_token"]).json()
    assert rc.api("GET", "/phone-number", second["access_token"]).status_code == 200
    simulator.advance_clock(11)
    reused = rc.refresh(first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert error_code(reused) == "OAU-213"
    assert simulator.counters()["refresh_token_reuse"] == 1


def test_reuse_within_grace_returns_the_same_new_pair_but_is_still_counted(rc, simulator):
    simulator.configure(refresh_grace_seconds=10)
    first = rc.login_tokens()
    second = rc.refresh(first["refresh_token"]).json()
    again = rc.refresh(first["refresh_token"])
    assert again.status_code == 200
    assert again.json()["access_token"] == second["access_token"]
    assert simulator.counters()["refresh_token_reuse"] == 1


def test_grace_ends_once_the_new_pair_is_itself_rotated(rc, simulator):
    simulator.configure(refresh_grace_seconds=10)
    first = rc.login_tokens()
    second = rc.refresh(first["refresh_token"]).json()
    assert rc.refresh(second["refresh_token"]).status_code == 200
    assert error_code(rc.refresh(first["refresh_token"])) == "OAU-213"


def test_expired_refresh_token_is_oau_210(rc, simulator):
    simulator.configure(refresh_token_ttl=100)
    tokens = rc.login_tokens()
    simulator.advance_clock(101)
    answer = rc.refresh(tokens["refresh_token"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert error_code(answer) == "OAU-210"


def test_expired_access_token_is_401_oau_128(rc, simulator):
    simulator.configure(access_token_ttl=5)
    tokens = rc.login_tokens()
    simulator.advance_clock(6)
    answer = rc.api("GET", "/phone-number", tokens["access_token"])
    assert answer.status_code == 401
    assert error_code(answer) == "OAU-128"
    assert simulator.counters()["api_unauthorized"] == 1


def test_client_may_ask_for_a_shorter_access_token_but_not_a_longer_one(rc, simulator):
    simulator.configure(access_token_ttl=1800)
    assert rc.password_login(access_token_ttl="600").json()["expires_in"] == 600
    assert rc.password_login(access_token_ttl="3600").json()["expires_in"] == 1800


def test_app_without_refresh_tokens_gets_none(rc, simulator):
    simulator.configure(clients=[default_client() | {"issue_refresh_tokens": False}])
    tokens = rc.login_tokens()
    assert "refresh_token" not in tokens
    assert "refresh_token_expires_in" not in tokens


def test_sixth_login_ends_the_oldest_session(rc, simulator):
    simulator.configure(rate_limits={"Auth": 100, "Medium": 40, "Light": 50, "Heavy": 10})
    logins = [rc.login_tokens() for _ in range(6)]
    oldest = rc.api("GET", "/phone-number", logins[0]["access_token"])
    assert oldest.status_code == 401
    assert error_code(oldest) == "OAU-213"
    assert error_code(rc.refresh(logins[0]["refresh_token"])) == "OAU-213"
    for tokens in logins[1:]:
        assert rc.api("GET", "/phone-number", tokens["access_token"]).status_code == 200
    counters = simulator.counters()
    assert counters["sessions_killed"] == 1
    assert counters["live_sessions"] == 5


def test_revoke_ends_the_whole_session(rc):
    tokens = rc.login_tokens()
    assert rc.revoke(tokens["refresh_token"]).status_code == 200
    assert rc.api("GET", "/phone-number", tokens["access_token"]).status_code == 401
    assert error_code(rc.refresh(tokens["refresh_token"])) == "OAU-213"


def test_control_api_revokes_every_session(rc: RcHttp, simulator: SimulatorControl):
    first, second = rc.login_tokens(), rc.jwt_login().json()
    assert simulator.revoke_all() == 2
    for tokens in (first, second):
        assert rc.api("GET", "/phone-number", tokens["access_token"]).status_code == 401


def test_token_requests_are_counted_by_grant_and_outcome(rc, simulator):
    tokens = rc.login_tokens()
    rc.password_login(password="wrong")
    rc.refresh(tokens["refresh_token"])
    counted = simulator.counters()["token_requests"]
    assert counted["password"] == {"ok": 1, "OAU-140": 1}
    assert counted["refresh_token"] == {"ok": 1}


def test_missing_bearer_token_is_401(rc):
    answer = rc.http.get(f"{rc.url}/restapi/v1.0/account/~/extension/~/phone-number", timeout=10)
    assert answer.status_code == 401


def test_password_grant_switch_refuses_it_with_oau_251_and_leaves_jwt_alone(rc, simulator):
    simulator.configure(password_grant_allowed=False)
    answer = rc.password_login()
    assert answer.status_code == 400
    assert answer.json()["error"] == "unauthorized_client"
    assert error_code(answer) == "OAU-251"
    tokens = rc.jwt_login().json()
    assert rc.refresh(tokens["refresh_token"]).status_code == 200
    assert simulator.counters()["token_requests"]["password"] == {"OAU-251": 1}


def test_password_grant_is_allowed_by_default(simulator):
    assert simulator.config()["password_grant_allowed"] is True


def _rotate(rc: RcHttp) -> tuple[dict, dict]:
    first = rc.login_tokens()
    answer = rc.refresh(first["refresh_token"])
    assert answer.status_code == 200
    return first, answer.json()


def test_grace_lasts_up_to_an_hour_while_the_new_access_token_is_unused(rc, simulator):
    assert simulator.config()["refresh_grace_unused_seconds"] == 3600
    first, second = _rotate(rc)
    simulator.advance_clock(600)
    again = rc.refresh(first["refresh_token"])
    assert again.status_code == 200
    assert again.json()["access_token"] == second["access_token"]
    simulator.advance_clock(3001)  # 3601 s after the rotation
    assert error_code(rc.refresh(first["refresh_token"])) == "OAU-213"


def test_grace_ends_about_10_s_after_the_new_access_token_is_first_used(rc, simulator):
    first, second = _rotate(rc)
    simulator.advance_clock(100)  # unused so far: still in grace
    assert rc.api("GET", "/phone-number", second["access_token"]).status_code == 200
    simulator.advance_clock(9)
    assert rc.refresh(first["refresh_token"]).json()["access_token"] == second["access_token"]
    assert rc.api("GET", "/phone-number", second["access_token"]).status_code == 200
    simulator.advance_clock(2)  # 11 s after the first use; later uses do not extend it
    assert error_code(rc.refresh(first["refresh_token"])) == "OAU-213"


def test_unused_grace_is_configurable(rc, simulator):
    simulator.configure(refresh_grace_unused_seconds=120)
    first, _ = _rotate(rc)
    simulator.advance_clock(119)
    assert rc.refresh(first["refresh_token"]).status_code == 200
    simulator.advance_clock(2)
    assert error_code(rc.refresh(first["refresh_token"])) == "OAU-213"


@pytest.mark.parametrize(
    "settings",
    [
        {"refresh_grace_seconds": 0},
        {"refresh_grace_seconds": 0, "refresh_grace_unused_seconds": 0},
    ],
    ids=["used-window-zero", "both-zero"],
)
def test_zero_grace_makes_every_reuse_fail_at_once(rc, simulator, settings):
    simulator.configure(**settings)
    first, _ = _rotate(rc)  # the new access token is never used: the long window would apply
    reused = rc.refresh(first["refresh_token"])
    assert reused.status_code == 400
    assert error_code(reused) == "OAU-213"
    assert simulator.counters()["refresh_token_reuse"] == 1


# -- a refresh race ----------------------------------------------------------------------------


WORKERS = 8


def _refresh_all_at_once(rc: RcHttp, refresh_token: str, lock: threading.Lock | None) -> list:
    """Each thread refreshes the token it was given, the way an unsynchronized worker does."""
    barrier = threading.Barrier(WORKERS)
    answers: list[requests.Response] = []
    shared = {"refresh_token": refresh_token}

    def worker() -> None:
        http = requests.Session()
        barrier.wait()
        if lock is None:
            answers.append(rc.refresh(refresh_token, http))
            return
        with lock:  # what a correct client does: one refresher, the others reuse its result
            answer = rc.refresh(shared["refresh_token"], http)
            shared["refresh_token"] = answer.json().get("refresh_token", shared["refresh_token"])
            answers.append(answer)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


def test_naive_concurrent_refreshers_are_detected(rc, simulator):
    simulator.configure(
        refresh_grace_seconds=0, rate_limits={"Auth": 100, "Medium": 40, "Light": 50, "Heavy": 10}
    )
    tokens = rc.login_tokens()
    answers = _refresh_all_at_once(rc, tokens["refresh_token"], lock=None)
    assert len(answers) == WORKERS
    assert sum(a.status_code == 200 for a in answers) == 1
    assert sorted(error_code(a) for a in answers if a.status_code != 200) == ["OAU-213"] * 7
    assert simulator.counters()["refresh_token_reuse"] == WORKERS - 1


def test_naive_refreshers_are_detected_even_when_grace_hides_the_failure(rc, simulator):
    simulator.configure(
        refresh_grace_seconds=10, rate_limits={"Auth": 100, "Medium": 40, "Light": 50, "Heavy": 10}
    )
    tokens = rc.login_tokens()
    answers = _refresh_all_at_once(rc, tokens["refresh_token"], lock=None)
    assert all(a.status_code == 200 for a in answers)
    assert simulator.counters()["refresh_token_reuse"] == WORKERS - 1


def test_serialized_refreshers_reuse_nothing(rc, simulator):
    simulator.configure(
        refresh_grace_seconds=0, rate_limits={"Auth": 100, "Medium": 40, "Light": 50, "Heavy": 10}
    )
    tokens = rc.login_tokens()
    answers = _refresh_all_at_once(rc, tokens["refresh_token"], lock=threading.Lock())
    assert all(a.status_code == 200 for a in answers)
    assert simulator.counters()["refresh_token_reuse"] == 0
