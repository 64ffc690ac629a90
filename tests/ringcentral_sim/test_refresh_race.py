"""The simulator catches a refresh race: the whole reason it exists."""

from __future__ import annotations

import threading

import requests

from tests.ringcentral_sim.rc_http import RcHttp, error_code

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
