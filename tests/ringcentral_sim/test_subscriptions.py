"""ringcentral_sim/webhooks.py: WebHook subscriptions, their validation handshake, expiry,
notifications of inbound texts, retries and blacklisting."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest
import requests

from ringcentral_sim import config as sim
from tests.ringcentral_sim.rc_http import RcHttp, error_code
from tests.ringcentral_sim.webhook_receiver import WebhookReceiver

SUBSCRIPTION = "/restapi/v1.0/subscription"
INSTANT_SMS = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"
OWN_EVENT = "/restapi/v1.0/account/400000001/extension/400000101/message-store/instant?type=SMS"
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def subscribe(rc: RcHttp, token: str, address: str, **overrides: Any) -> requests.Response:
    body: dict[str, Any] = {
        "eventFilters": [INSTANT_SMS],
        "deliveryMode": {
            "transportType": "WebHook",
            "address": address,
            "verificationToken": "app-secret-123",
        },
        "expiresIn": 3600,
    }
    body.update(overrides)
    return rc.rest("POST", SUBSCRIPTION, token, json=body)


def created(rc: RcHttp, token: str, receiver: WebhookReceiver, **overrides: Any) -> dict:
    answer = subscribe(rc, token, receiver.url, **overrides)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_echoed_handshake_creates_an_active_subscription(rc, simulator, access_token, receiver):
    answer = subscribe(rc, access_token, receiver.url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Rate-Limit-Group"] == "Medium"
    info = answer.json()
    assert info["status"] == "Active"
    assert info["eventFilters"] == [OWN_EVENT]
    assert info["expiresIn"] == 3600
    assert ISO_MS.match(info["expirationTime"])
    assert ISO_MS.match(info["creationTime"])
    assert info["uri"].endswith(f"{SUBSCRIPTION}/{info['id']}")
    # WebhookDeliveryMode: never the verificationToken.
    assert info["deliveryMode"] == {
        "transportType": "WebHook",
        "address": receiver.url,
        "encryption": False,
    }
    assert "app-secret-123" not in answer.text
    [validation] = receiver.validations()
    assert validation.body == b""
    assert len(validation.headers["validation-token"]) >= 16
    listed = rc.rest("GET", SUBSCRIPTION, access_token)
    assert listed.headers["X-Rate-Limit-Group"] == "Light"
    assert [s["id"] for s in listed.json()["records"]] == [info["id"]]
    one = rc.rest("GET", f"{SUBSCRIPTION}/{info['id']}", access_token).json()
    assert one["status"] == "Active"


@pytest.mark.parametrize("how", ["not echoed", "not 200"])
def test_a_wrong_handshake_answer_is_sub_525_and_creates_nothing(
    rc, simulator, access_token, receiver, how
):
    if how == "not echoed":
        receiver.echo = False
    else:
        receiver.validation_status = 500
    answer = subscribe(rc, access_token, receiver.url)
    assert answer.status_code == 400
    assert error_code(answer) == "SUB-525"
    assert "WebHook server response is invalid" in answer.json()["message"]
    assert rc.rest("GET", SUBSCRIPTION, access_token).json()["records"] == []
    [attempt] = simulator.webhook_deliveries()
    assert attempt["kind"] == "validation"
    assert not attempt["ok"]


def test_a_slow_handshake_answer_is_sub_525(rc, simulator, access_token, receiver):
    # The guide's 3 s, shortened so the test stays fast.
    simulator.configure(webhook_timeout_seconds=0.3)
    receiver.delay = 0.8
    answer = subscribe(rc, access_token, receiver.url)
    assert error_code(answer) == "SUB-525"
    assert simulator.subscriptions() == []


def test_an_unreachable_webhook_is_sub_525(rc, simulator, access_token, receiver):
    receiver.stop()
    answer = subscribe(rc, access_token, receiver.url)
    assert error_code(answer) == "SUB-525"


def test_the_simulator_answers_other_calls_during_a_slow_handshake(
    rc, simulator, access_token, receiver
):
    receiver.delay = 1.0
    started = time.monotonic()
    with requests.Session() as other:
        result: dict[str, Any] = {}
        creating = threading.Thread(
            target=lambda: result.update(answer=subscribe(rc, access_token, receiver.url))
        )
        creating.start()
        time.sleep(0.2)
        during = other.get(
            f"{rc.url}/restapi/v1.0/account/~/extension/~/phone-number",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=10,
        )
        answered_after = time.monotonic() - started
        creating.join()
    assert during.status_code == 200
    assert answered_after < 0.9  # not queued behind the handshake
    assert result["answer"].status_code == 200


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"eventFilters": ["/restapi/v1.0/account/~/extension/~/presence"]}, "SUB-508"),
        ({"eventFilters": []}, "CMN-101"),
        ({"deliveryMode": {"transportType": "PubNub"}}, "CMN-101"),
        ({"deliveryMode": {"transportType": "WebHook", "address": "ftp://x"}}, "CMN-101"),
        ({"expiresIn": 0}, "CMN-101"),
    ],
)
def test_bad_subscription_requests_are_refused(rc, access_token, receiver, change, code):
    answer = subscribe(rc, access_token, receiver.url, **change)
    assert answer.status_code == 400
    assert error_code(answer) == code
    assert receiver.validations() == []  # refused before any handshake


def test_a_notification_carries_the_token_header_and_the_text(
    rc, simulator, access_token, receiver
):
    info = created(rc, access_token, receiver)
    record = simulator.inbound("+15551230001", "Can I move my booking?")
    [got] = receiver.wait_for_notifications(1)
    assert got.headers["content-type"] == "application/json"
    assert got.headers["verification-token"] == "app-secret-123"
    event = got.json()
    assert event["subscriptionId"] == info["id"]
    assert event["event"] == OWN_EVENT
    assert event["ownerId"] == "400000101"
    assert ISO_MS.match(event["timestamp"])
    body = event["body"]
    assert body["id"] == str(record["id"])
    assert body["subject"] == "Can I move my booking?"
    assert "text" not in body
    assert body["from"] == {"phoneNumber": "+15551230001"}
    assert body["to"] == [{"phoneNumber": "+16505550100", "target": True}]
    assert body["direction"] == "Inbound"
    assert body["messageStatus"] == "Received"
    assert body["readStatus"] == "Unread"
    assert body["type"] == "SMS"
    assert body["availability"] == "Alive"
    assert body["conversation"]["id"] == record["conversation"]["id"]
    assert body["attachments"][0]["type"] == "Text"
    # The webhook has the request before the simulator has read its answer.
    _wait_until(lambda: simulator.counters()["webhook_notifications"]["delivered"] == 1)
    counters = simulator.counters()["webhook_notifications"]
    assert counters == {"attempted": 1, "delivered": 1, "failed": 0}


def test_the_token_header_name_is_a_switch(rc, simulator, access_token, receiver):
    simulator.configure(webhook_token_header="Validation-Token")
    created(rc, access_token, receiver)
    simulator.inbound("+15551230001", "hello")
    [got] = receiver.wait_for_notifications(1)
    assert got.headers["validation-token"] == "app-secret-123"
    assert "verification-token" not in got.headers


def test_without_a_verification_token_no_token_header_is_sent(
    rc, simulator, access_token, receiver
):
    mode = {"transportType": "WebHook", "address": receiver.url}
    created(rc, access_token, receiver, deliveryMode=mode)
    simulator.inbound("+15551230001", "hello")
    [got] = receiver.wait_for_notifications(1)
    assert "verification-token" not in got.headers
    assert "validation-token" not in got.headers


def test_two_deliveries_send_the_same_uuid_twice(rc, simulator, access_token, receiver):
    created(rc, access_token, receiver)
    simulator.inbound("+15551230001", "hello", deliveries=2)
    first, second = receiver.wait_for_notifications(2)
    assert first.json()["uuid"] == second.json()["uuid"]
    assert first.json()["body"]["id"] == second.json()["body"]["id"]


def test_every_subscription_gets_its_own_notification(rc, simulator, access_token, receiver):
    one = created(rc, access_token, receiver)
    two = created(rc, access_token, receiver)
    simulator.inbound("+15551230001", "hello")
    got = receiver.wait_for_notifications(2)
    assert {g.json()["subscriptionId"] for g in got} == {one["id"], two["id"]}
    assert len({g.json()["uuid"] for g in got}) == 2


def test_a_failed_notification_is_retried_with_the_same_uuid(rc, simulator, access_token, receiver):
    simulator.configure(webhook_retries=1, webhook_retry_delay_seconds=0.0)
    created(rc, access_token, receiver)
    receiver.statuses = [500]
    simulator.inbound("+15551230001", "hello")
    first, second = receiver.wait_for_notifications(2)
    assert first.json()["uuid"] == second.json()["uuid"]
    _wait_until(lambda: simulator.counters()["webhook_notifications"]["delivered"] == 1)
    counters = simulator.counters()["webhook_notifications"]
    assert counters == {"attempted": 2, "delivered": 1, "failed": 1}
    attempts = [d["attempt"] for d in simulator.webhook_deliveries() if d["kind"] != "validation"]
    assert attempts == [1, 2]


def test_three_failures_in_a_row_blacklist_the_subscription(rc, simulator, access_token, receiver):
    simulator.configure(webhook_retries=0, webhook_failures_to_blacklist=3)
    info = created(rc, access_token, receiver)
    receiver.status = 500
    for n in range(3):
        simulator.inbound("+15551230001", f"text {n}")
        receiver.wait_for_notifications(n + 1)
    _wait_until(lambda: simulator.counters()["webhook_notifications"]["failed"] == 3)
    got = rc.rest("GET", f"{SUBSCRIPTION}/{info['id']}", access_token).json()
    assert got["status"] == "Blacklisted"
    assert "500" in got["blacklistedData"]["reason"]
    assert ISO_MS.match(got["blacklistedData"]["blacklistedAt"])
    receiver.status = 200
    simulator.inbound("+15551230001", "after the blacklisting")
    time.sleep(0.3)
    assert len(receiver.notifications()) == 3  # nothing more
    # Renewing does not bring it back: delete it and create a new one.
    renewed = rc.rest("POST", f"{SUBSCRIPTION}/{info['id']}/renew", access_token).json()
    assert renewed["status"] == "Blacklisted"


def test_a_success_resets_the_failure_count(rc, simulator, access_token, receiver):
    simulator.configure(webhook_retries=0, webhook_failures_to_blacklist=2)
    info = created(rc, access_token, receiver)
    receiver.statuses = [500, 200, 500]
    for n in range(3):
        simulator.inbound("+15551230001", f"text {n}")
        # One at a time: each outcome is counted before the next text goes out.
        _wait_until(lambda n=n: len(_notifications(simulator)) == n + 1)
    got = rc.rest("GET", f"{SUBSCRIPTION}/{info['id']}", access_token).json()
    assert got["status"] == "Active"


def test_an_expired_subscription_is_gone_and_delivers_nothing(
    rc, simulator, access_token, receiver
):
    info = created(rc, access_token, receiver, expiresIn=60)
    simulator.advance_clock(61)
    assert rc.rest("GET", SUBSCRIPTION, access_token).json()["records"] == []
    gone = rc.rest("GET", f"{SUBSCRIPTION}/{info['id']}", access_token)
    assert gone.status_code == 404
    assert error_code(gone) == "CMN-102"
    simulator.inbound("+15551230001", "anyone there?")
    time.sleep(0.3)
    assert receiver.notifications() == []
    late = rc.rest("POST", f"{SUBSCRIPTION}/{info['id']}/renew", access_token)
    assert late.status_code == 400
    assert error_code(late) == "SUB-507"


def test_renew_starts_a_new_lifetime(rc, simulator, access_token, receiver):
    info = created(rc, access_token, receiver, expiresIn=60)
    simulator.advance_clock(50)
    before = rc.rest("GET", f"{SUBSCRIPTION}/{info['id']}", access_token).json()
    assert before["expiresIn"] <= 10
    renewed = rc.rest("POST", f"{SUBSCRIPTION}/{info['id']}/renew", access_token)
    assert renewed.status_code == 200
    assert renewed.headers["X-Rate-Limit-Group"] == "Light"
    assert renewed.json()["expiresIn"] == 60
    assert renewed.json()["expirationTime"] > info["expirationTime"]
    simulator.advance_clock(50)  # past the first lifetime, inside the renewed one
    simulator.inbound("+15551230001", "still there")
    assert len(receiver.wait_for_notifications(1)) == 1


def test_delete_ends_the_subscription(rc, simulator, access_token, receiver):
    info = created(rc, access_token, receiver)
    deleted = rc.rest("DELETE", f"{SUBSCRIPTION}/{info['id']}", access_token)
    assert deleted.status_code == 204
    assert deleted.headers["X-Rate-Limit-Group"] == "Medium"
    assert rc.rest("GET", f"{SUBSCRIPTION}/{info['id']}", access_token).status_code == 404
    assert rc.rest("DELETE", f"{SUBSCRIPTION}/{info['id']}", access_token).status_code == 404
    simulator.inbound("+15551230001", "hello?")
    time.sleep(0.3)
    assert receiver.notifications() == []


def test_at_most_30_subscriptions_per_user_and_app(rc, simulator, access_token, receiver):
    for _ in range(30):
        created(rc, access_token, receiver)
    answer = subscribe(rc, access_token, receiver.url)
    assert answer.status_code == 400
    assert error_code(answer) == "SUB-505"


def test_expires_in_defaults_to_a_week_and_is_capped(rc, access_token, receiver):
    body = {
        "eventFilters": [INSTANT_SMS],
        "deliveryMode": {"transportType": "WebHook", "address": receiver.url},
    }
    default = rc.rest("POST", SUBSCRIPTION, access_token, json=body).json()
    assert default["expiresIn"] == 604800
    capped = created(rc, access_token, receiver, expiresIn=10**9)
    assert capped["expiresIn"] == 315360000


def test_the_inbound_answer_never_waits_for_the_webhook(rc, simulator, access_token, receiver):
    created(rc, access_token, receiver)
    receiver.delay = 1.5
    started = time.monotonic()
    simulator.inbound("+15551230001", "hello")
    assert time.monotonic() - started < 1.0
    assert len(receiver.wait_for_notifications(1)) == 1


def test_another_apps_subscriptions_are_not_its_own(rc, simulator, access_token, receiver):
    info = created(rc, access_token, receiver)
    other_app = sim.default_client() | {"client_id": "other-app", "client_secret": "other-secret"}
    simulator.configure(clients=[sim.default_client(), other_app])
    login = rc.token(
        ("other-app", "other-secret"),
        grant_type="password",
        username=sim.DEFAULT_USERNAME,
        extension=sim.DEFAULT_EXTENSION,
        password=sim.DEFAULT_PASSWORD,
    )
    other_token = login.json()["access_token"]
    assert rc.rest("GET", SUBSCRIPTION, other_token).json()["records"] == []
    assert rc.rest("GET", f"{SUBSCRIPTION}/{info['id']}", other_token).status_code == 404
    # Both apps' subscriptions hear about the user's texts.
    created(rc, other_token, receiver)
    simulator.inbound("+15551230001", "hello")
    assert len(receiver.wait_for_notifications(2)) == 2


def _notifications(simulator) -> list[dict[str, Any]]:
    return [d for d in simulator.webhook_deliveries() if d["kind"] == "notification"]


def _wait_until(check, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
