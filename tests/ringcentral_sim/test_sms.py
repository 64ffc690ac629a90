"""Sending SMS, the message store, delivery status over time, and the sender-number list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.ringcentral_sim.rc_http import error_code, store_date


def test_accepted_sms_is_queued_then_sent_then_delivered(rc, simulator, access_token):
    simulator.configure(sent_after_seconds=5, delivered_after_seconds=20)
    answer = rc.send_sms(access_token, to="+16505550199", text="Your table is ready")
    assert answer.status_code == 200
    record = answer.json()
    assert record["messageStatus"] == "Queued"
    assert record["direction"] == "Outbound"
    assert record["to"] == [{"phoneNumber": "+16505550199"}]
    path = f"/message-store/{record['id']}"
    assert rc.api("GET", path, access_token).json()["messageStatus"] == "Queued"
    simulator.advance_clock(6)
    assert rc.api("GET", path, access_token).json()["messageStatus"] == "Sent"
    simulator.advance_clock(15)
    delivered = rc.api("GET", path, access_token).json()
    assert delivered["messageStatus"] == "Delivered"
    assert "smsDeliveryTime" in delivered


def test_failing_number_ends_in_delivery_failed_with_its_code(rc, simulator, access_token):
    simulator.configure(failing_numbers={"+16505550177": "SMS-RC-413"})
    record = rc.send_sms(access_token, to="+16505550177").json()
    simulator.advance_clock(10)
    after = rc.api("GET", f"/message-store/{record['id']}", access_token).json()
    assert after["messageStatus"] == "DeliveryFailed"
    assert after["deliveryErrorCode"] == "SMS-RC-413"


def test_from_number_without_sms_sender_is_403_msg_242(rc, simulator, access_token):
    answer = rc.send_sms(access_token, sender="+16505550123")
    assert answer.status_code == 403
    assert error_code(answer) == "MSG-242"
    assert simulator.counters()["sms_accepted"] == 0


def test_text_over_1000_utf16_units_is_msg_338(rc, access_token):
    # An emoji is two UTF-16 units: 999 letters and one emoji are 1001 units.
    answer = rc.send_sms(access_token, text="a" * 999 + "😀")
    assert answer.status_code == 400
    assert error_code(answer) == "MSG-338"
    assert rc.send_sms(access_token, text="a" * 998 + "😀").status_code == 200


def test_recipient_that_is_not_e164_is_cmn_101(rc, access_token):
    answer = rc.send_sms(access_token, to="555-0199")
    assert answer.status_code == 400
    assert error_code(answer) == "CMN-101"
    assert answer.json()["errors"][0]["parameterName"] == "to.phoneNumber"


def test_message_store_filters_by_number_and_date(rc, simulator, access_token):
    start = datetime.now(UTC) - timedelta(seconds=1)
    first = rc.send_sms(access_token, to="+16505550101", text="one").json()
    rc.send_sms(access_token, to="+16505550102", text="two")
    third = rc.send_sms(access_token, to="+16505550101", text="three").json()
    query = {
        "direction": "Outbound",
        "messageType": "SMS",
        "phoneNumber": "+16505550101",
        "dateFrom": store_date(start),
    }
    found = rc.api("GET", "/message-store", access_token, params=query).json()["records"]
    assert [r["id"] for r in found] == [third["id"], first["id"]]
    later = {**query, "dateFrom": store_date(datetime.now(UTC) + timedelta(minutes=1))}
    assert rc.api("GET", "/message-store", access_token, params=later).json()["records"] == []
    inbound = {**query, "direction": "Inbound"}
    assert rc.api("GET", "/message-store", access_token, params=inbound).json()["records"] == []


def test_unknown_message_id_is_404(rc, access_token):
    answer = rc.api("GET", "/message-store/42", access_token)
    assert answer.status_code == 404
    assert error_code(answer) == "CMN-102"


def test_phone_number_list_shows_the_sms_sender(rc, access_token):
    records = rc.api("GET", "/phone-number", access_token).json()["records"]
    assert records[0]["phoneNumber"] == "+16505550100"
    assert "SmsSender" in records[0]["features"]
    assert records[0]["status"] == "Normal"


def test_a_text_that_arrives_twice_is_reported(rc, simulator, access_token):
    rc.send_sms(access_token, to="+16505550101", text="Reminder: 3pm")
    rc.send_sms(access_token, to="+16505550102", text="Reminder: 3pm")
    assert simulator.counters()["sms_duplicates"] == []
    rc.send_sms(access_token, to="+16505550101", text="Reminder: 3pm")
    assert simulator.counters()["sms_duplicates"] == [
        {"to": ["+16505550101"], "text": "Reminder: 3pm", "count": 2}
    ]


def test_sending_failed_number_goes_from_queued_to_sending_failed_never_sent(
    rc, simulator, access_token
):
    simulator.configure(sent_after_seconds=5, delivered_after_seconds=20)
    record = rc.send_sms(access_token, to="+15005550004").json()  # the default such number
    path = f"/message-store/{record['id']}"
    assert record["messageStatus"] == "Queued"
    simulator.advance_clock(4)
    assert rc.api("GET", path, access_token).json()["messageStatus"] == "Queued"
    simulator.advance_clock(2)
    failed = rc.api("GET", path, access_token).json()
    assert failed["messageStatus"] == "SendingFailed"
    assert failed["deliveryErrorCode"] == "SMS-RC-413"
    simulator.advance_clock(1800)
    later = rc.api("GET", path, access_token).json()
    assert later["messageStatus"] == "SendingFailed"
    assert "smsDeliveryTime" not in later


def test_sending_failed_numbers_are_configurable(rc, simulator, access_token):
    simulator.configure(sending_failed_numbers={"+16505550177": "SMS-RC-410"})
    record = rc.send_sms(access_token, to="+16505550177").json()
    simulator.advance_clock(10)
    after = rc.api("GET", f"/message-store/{record['id']}", access_token).json()
    assert (after["messageStatus"], after["deliveryErrorCode"]) == ("SendingFailed", "SMS-RC-410")
    listed = rc.api("GET", "/message-store", access_token).json()["records"]
    assert [(r["id"], r["messageStatus"]) for r in listed] == [(record["id"], "SendingFailed")]


def test_no_receipt_number_stays_sent_for_good(rc, simulator, access_token):
    simulator.configure(sent_after_seconds=1, delivered_after_seconds=2)
    record = rc.send_sms(access_token, to="+15005550005").json()  # the default such number
    path = f"/message-store/{record['id']}"
    simulator.advance_clock(1.5)
    assert rc.api("GET", path, access_token).json()["messageStatus"] == "Sent"
    simulator.advance_clock(2 * 86400)
    access_token = rc.login_tokens()["access_token"]  # the first one expired meanwhile
    later = rc.api("GET", path, access_token).json()
    assert later["messageStatus"] == "Sent"
    assert "smsDeliveryTime" not in later
    assert "deliveryErrorCode" not in later
    # Only the configured numbers lack a receipt: without it, the same text is delivered.
    simulator.configure(no_receipt_numbers=[])
    assert rc.api("GET", path, access_token).json()["messageStatus"] == "Delivered"


def test_phone_number_ids_are_numbers_and_the_sender_has_sms_and_mms(rc, access_token):
    listing = rc.api("GET", "/phone-number", access_token).json()
    records = {r["phoneNumber"]: r for r in listing["records"]}
    assert all(isinstance(r["id"], int) for r in records.values())
    sender = records["+16505550100"]
    assert sender["features"] == ["SmsSender", "MmsSender", "CallerId"]
    assert listing["paging"]["totalElements"] == len(records)


def test_default_user_has_an_a2p_number_that_is_never_also_an_sms_sender(rc, access_token):
    records = rc.api("GET", "/phone-number", access_token).json()["records"]
    a2p = [r for r in records if "A2PSmsSender" in r["features"]]
    assert [r["phoneNumber"] for r in a2p] == ["+16505550120"]
    assert not any({"SmsSender", "A2PSmsSender"} <= set(r["features"]) for r in records)


def test_a2p_number_cannot_send_through_the_sms_endpoint(rc, simulator, access_token):
    answer = rc.send_sms(access_token, sender="+16505550120")
    assert answer.status_code == 403
    assert error_code(answer) == "MSG-242"
    assert simulator.counters()["sms_accepted"] == 0
