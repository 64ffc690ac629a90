"""ringcentral_sim/consents.py: STOP/START keywords in inbound texts block and unblock sends."""

from __future__ import annotations

import pytest

from ringcentral_sim.consents import keyword_status

CUSTOMER = "+15551230001"


def status_after_a_while(rc, simulator, access_token, record) -> dict:
    simulator.advance_clock(10)
    return rc.api("GET", f"/message-store/{record['id']}", access_token).json()


@pytest.mark.parametrize("text", ["STOP", "stop", " stop! ", "Stop.", "unsubscribe", "QUIT", "End"])
def test_a_stop_keyword_blocks_the_next_send_with_sms_rc_413(rc, simulator, access_token, text):
    simulator.inbound(CUSTOMER, text)
    answer = rc.send_sms(access_token, to=CUSTOMER, text="One more offer")
    assert answer.status_code == 200  # accepted all the same
    assert answer.json()["messageStatus"] == "Queued"
    later = status_after_a_while(rc, simulator, access_token, answer.json())
    assert later["messageStatus"] == "SendingFailed"
    assert later["deliveryErrorCode"] == "SMS-RC-413"
    assert "smsDeliveryTime" not in later


def test_a_blocked_text_never_reaches_sent(rc, simulator, access_token):
    simulator.configure(sent_after_seconds=5, delivered_after_seconds=10)
    simulator.inbound(CUSTOMER, "STOP")
    record = rc.send_sms(access_token, to=CUSTOMER).json()
    seen = []
    for _ in range(4):
        simulator.advance_clock(3)
        seen.append(
            rc.api("GET", f"/message-store/{record['id']}", access_token).json()["messageStatus"]
        )
    assert seen == ["Queued", "SendingFailed", "SendingFailed", "SendingFailed"]


@pytest.mark.parametrize("text", ["stop please", "STOPS", "please stop", "don't stop"])
def test_a_sentence_with_stop_in_it_does_not_opt_out(rc, simulator, access_token, text):
    simulator.inbound(CUSTOMER, text)
    record = rc.send_sms(access_token, to=CUSTOMER).json()
    assert status_after_a_while(rc, simulator, access_token, record)["messageStatus"] == (
        "Delivered"
    )
    assert simulator.opt_outs() == []


@pytest.mark.parametrize("text", ["START", "subscribe", "Resume!", "continue", "UNSTOP"])
def test_a_start_keyword_opts_back_in(rc, simulator, access_token, text):
    simulator.inbound(CUSTOMER, "STOP")
    simulator.advance_clock(1)
    simulator.inbound(CUSTOMER, text)
    record = rc.send_sms(access_token, to=CUSTOMER).json()
    assert status_after_a_while(rc, simulator, access_token, record)["messageStatus"] == (
        "Delivered"
    )


def test_an_opt_out_is_per_pair(rc, simulator, access_token):
    simulator.inbound(CUSTOMER, "STOP")
    other = rc.send_sms(access_token, to="+15551230002").json()
    assert status_after_a_while(rc, simulator, access_token, other)["messageStatus"] == (
        "Delivered"
    )
    [opt_out] = simulator.opt_outs()
    assert opt_out["from"] == "+16505550100"
    assert opt_out["to"] == CUSTOMER
    assert opt_out["source"] == "Recipient"
    assert simulator.counters()["opt_outs"] == 1


def test_a_keyword_opt_out_shows_in_the_consents_api(rc, simulator, access_token):
    simulator.inbound(CUSTOMER, "Stop.")
    found = rc.rest(
        "POST",
        "/restapi/v2/accounts/~/sms/consents/search",
        access_token,
        json={"to": [CUSTOMER]},
    ).json()
    [record] = found["records"]
    assert record["optStatus"] == "OptOut"
    assert record["source"] == "Recipient"
    assert record["from"] == "+16505550100"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("STOP", "OptOut"),
        ("  cancel\n", "OptOut"),
        ("¡STOP!", "OptOut"),
        ("start", "OptIn"),
        ("stop now", None),
        ("HELP", None),
        ("", None),
    ],
)
def test_keyword_status(text, status):
    assert keyword_status(text) == status
