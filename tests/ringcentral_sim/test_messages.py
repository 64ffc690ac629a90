"""ringcentral_sim/messages.py: sending SMS, status over time, and message-store lists held to
the published API (dates, paging, navigation, filters), with the behaviours the reference
leaves open (numbers without "+", lists that lag)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from ringcentral_sim.messages import MessageStore
from tests.ringcentral_sim.rc_http import RcHttp, error_code, store_date

STORE = "/message-store"


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


# -- the message store's lists -----------------------------------------------------------------


def _since() -> str:
    return store_date(datetime.now(UTC) - timedelta(minutes=1))


def _list(rc: RcHttp, token: str, params: object) -> dict:
    answer = rc.api("GET", STORE, token, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _send(rc: RcHttp, token: str, count: int, to: str = "+16505550101") -> list[int]:
    ids = []
    for i in range(count):
        answer = rc.send_sms(token, to=to, text=f"text {i}")
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["id"])
    return ids


def _invalid(answer, parameter: str) -> None:
    assert answer.status_code == 400, answer.text
    assert error_code(answer) == "CMN-101"
    assert answer.json()["errors"][0]["parameterName"] == parameter


def test_numbers_keep_their_plus_by_default(rc, access_token):
    posted = rc.send_sms(access_token, to="+16505550101").json()
    assert posted["from"]["phoneNumber"] == "+16505550100"
    assert posted["to"] == [{"phoneNumber": "+16505550101"}]


def test_store_may_write_numbers_without_plus_in_every_api_record(rc, simulator, access_token):
    simulator.configure(store_numbers_without_plus=True)
    posted = rc.send_sms(access_token, to="+16505550101", text="plain numbers").json()
    by_id = rc.api("GET", f"{STORE}/{posted['id']}", access_token).json()
    [listed] = _list(rc, access_token, {"dateFrom": _since()})["records"]
    for record in (posted, by_id, listed):
        assert record["from"]["phoneNumber"] == "16505550100"
        assert record["to"] == [{"phoneNumber": "16505550101"}]
    # The control API is not RingCentral's: it keeps E.164 so tests can compare plainly.
    assert simulator.messages()[0]["to"] == [{"phoneNumber": "+16505550101"}]


def test_lists_lag_accepted_texts_but_reads_by_id_do_not(rc, simulator, access_token):
    simulator.configure(store_list_lag_seconds=3)
    query = {"dateFrom": _since()}
    posted = rc.send_sms(access_token, text="late in lists").json()
    assert _list(rc, access_token, query)["records"] == []
    assert rc.api("GET", f"{STORE}/{posted['id']}", access_token).status_code == 200
    simulator.advance_clock(2)
    assert _list(rc, access_token, query)["records"] == []
    simulator.advance_clock(1.5)
    [listed] = _list(rc, access_token, query)["records"]
    assert listed["id"] == posted["id"]
    assert listed["creationTime"] == posted["creationTime"]  # still the time it was accepted


def test_no_lag_by_default(rc, access_token):
    posted = rc.send_sms(access_token).json()
    assert [r["id"] for r in _list(rc, access_token, {"dateFrom": _since()})["records"]] == [
        posted["id"]
    ]


@pytest.mark.parametrize(
    "value",
    ["2026-03-10T18:07:52.534Z", "2026-03-10T18:07:52Z"],
    ids=["milliseconds", "seconds"],
)
def test_documented_date_forms_are_accepted(rc, access_token, value):
    for name in ("dateFrom", "dateTo"):
        assert rc.api("GET", STORE, access_token, params={name: value}).status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-10T18:07:52.534+00:00",
        "2026-03-10T18:07:52.534123Z",
        "2026-03-10T18:07:52.534",
        "2026-03-10T18:07:52.534123+00:00",
        "2026-03-10",
        "2026-13-10T18:07:52.534Z",
        "yesterday",
    ],
    ids=["offset", "microseconds", "no-zone", "our-old-form", "date-only", "month-13", "word"],
)
def test_any_other_date_form_is_400_cmn_101_naming_the_parameter(rc, access_token, value):
    for name in ("dateFrom", "dateTo"):
        _invalid(rc.api("GET", STORE, access_token, params={name: value}), name)


def test_lenient_dates_accept_any_iso_form_and_still_filter(rc, simulator, access_token):
    simulator.configure(strict_store_dates=False)
    [sent] = _send(rc, access_token, 1)
    before = datetime.now(UTC) - timedelta(minutes=1)
    after = datetime.now(UTC) + timedelta(minutes=1)
    for since, expected in ((before, [sent]), (after, [])):
        for value in (since.isoformat(), since.replace(tzinfo=None).isoformat()):
            found = _list(rc, access_token, {"dateFrom": value})["records"]
            assert [r["id"] for r in found] == expected, value


def test_date_to_bounds_the_list_and_date_from_defaults_to_a_day_before_it(rc, simulator):
    simulator.configure(access_token_ttl=3 * 86400)  # one token for the whole simulated day
    access_token = rc.login_tokens()["access_token"]
    [old] = _send(rc, access_token, 1)
    simulator.advance_clock(3 * 3600)
    [new] = _send(rc, access_token, 1)
    assert [r["id"] for r in _list(rc, access_token, {})["records"]] == [new, old]
    cut = store_date(datetime.now(UTC) + timedelta(hours=1))  # between the two, on sim time
    assert [r["id"] for r in _list(rc, access_token, {"dateTo": cut})["records"]] == [old]
    simulator.advance_clock(23 * 3600)  # old is now more than a day old, new is not
    assert [r["id"] for r in _list(rc, access_token, {})["records"]] == [new]
    # Without dateFrom, the day counts back from dateTo, not from now.
    assert [r["id"] for r in _list(rc, access_token, {"dateTo": cut})["records"]] == [old]


def test_pages_follow_the_documented_paging_and_navigation(rc, simulator, access_token):
    ids = list(reversed(_send(rc, access_token, 5)))  # lists are newest first
    query = {"messageType": "SMS", "dateFrom": _since(), "perPage": "2"}
    first = _list(rc, access_token, query)
    assert first["paging"] == {
        "page": 1,
        "perPage": 2,
        "pageStart": 0,
        "pageEnd": 1,
        "totalPages": 3,
        "totalElements": 5,
    }
    assert set(first["navigation"]) == {"firstPage", "nextPage", "lastPage"}
    next_uri = first["navigation"]["nextPage"]["uri"]
    assert next_uri.startswith(f"{simulator.url}/restapi/v1.0/account/~/extension/~/")
    assert dict(parse_qsl(urlsplit(next_uri).query)) == {**query, "page": "2"}

    seen, page, pages = [], first, 1
    while "nextPage" in page["navigation"]:
        seen += [r["id"] for r in page["records"]]
        page = rc.http.get(
            page["navigation"]["nextPage"]["uri"],
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=10,
        ).json()
        pages += 1
    seen += [r["id"] for r in page["records"]]
    assert seen == ids
    assert pages == 3
    assert page["paging"] == {
        "page": 3,
        "perPage": 2,
        "pageStart": 4,
        "pageEnd": 4,
        "totalPages": 3,
        "totalElements": 5,
    }
    assert set(page["navigation"]) == {"firstPage", "previousPage", "lastPage"}
    previous = dict(parse_qsl(urlsplit(page["navigation"]["previousPage"]["uri"]).query))
    assert previous["page"] == "2"


def test_middle_page_links_both_ways(rc, access_token):
    _send(rc, access_token, 5)
    middle = _list(rc, access_token, {"dateFrom": _since(), "perPage": 2, "page": 2})
    assert set(middle["navigation"]) == {"firstPage", "nextPage", "previousPage", "lastPage"}
    assert middle["paging"]["pageStart"] == 2
    assert middle["paging"]["pageEnd"] == 3


def test_a_page_past_the_end_is_empty_without_page_start_or_end(rc, access_token):
    _send(rc, access_token, 2)
    beyond = _list(rc, access_token, {"dateFrom": _since(), "page": 9})
    assert beyond["records"] == []
    assert "pageStart" not in beyond["paging"]
    assert "pageEnd" not in beyond["paging"]
    assert beyond["paging"]["totalElements"] == 2
    assert "nextPage" not in beyond["navigation"]


def test_an_empty_list_has_no_page_start_or_end(rc, access_token):
    empty = _list(rc, access_token, {"dateFrom": _since()})
    assert empty["records"] == []
    assert empty["paging"] == {"page": 1, "perPage": 100, "totalPages": 0, "totalElements": 0}
    assert set(empty["navigation"]) == {"firstPage", "lastPage"}


def test_per_page_defaults_to_100_and_is_clamped_to_1000(rc, access_token):
    assert _list(rc, access_token, {})["paging"]["perPage"] == 100
    assert _list(rc, access_token, {"perPage": 5000})["paging"]["perPage"] == 1000
    assert _list(rc, access_token, {"perPage": 1000})["paging"]["perPage"] == 1000


@pytest.mark.parametrize("name", ["page", "perPage"])
@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", " 2"])
def test_page_and_per_page_must_be_positive_integers(rc, access_token, name, value):
    _invalid(rc.api("GET", STORE, access_token, params={name: value}), name)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("direction", "Sideways"),
        ("messageType", "MMS"),
        ("availability", "Gone"),
        ("readStatus", "Maybe"),
    ],
)
def test_unknown_enum_value_is_400_cmn_101(rc, access_token, name, value):
    _invalid(rc.api("GET", STORE, access_token, params={name: value}), name)
    # One bad value among good repeats is still refused.
    good = {"direction": "Outbound", "messageType": "SMS", "availability": "Alive"}.get(
        name, "Read"
    )
    _invalid(rc.api("GET", STORE, access_token, params=[(name, good), (name, value)]), name)


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ([("direction", "Inbound"), ("direction", "Outbound")], True),
        ([("direction", "Outbound"), ("direction", "Inbound")], True),
        ([("direction", "Inbound")], False),
        ([("messageType", "Pager"), ("messageType", "SMS")], True),
        ([("messageType", "SMS"), ("messageType", "Pager")], True),
        ([("messageType", "Pager"), ("messageType", "Fax")], False),
        ([("availability", "Alive"), ("availability", "Deleted")], True),
        ([("availability", "Deleted")], False),
        ([("readStatus", "Unread"), ("readStatus", "Read")], True),
        ([("readStatus", "Unread")], False),
    ],
)
def test_repeated_filters_are_honoured(rc, access_token, params, found):
    [sent] = _send(rc, access_token, 1)
    records = _list(rc, access_token, [("dateFrom", _since()), *params])["records"]
    assert [r["id"] for r in records] == ([sent] if found else [])


@pytest.mark.parametrize(
    ("number", "found"),
    [
        ("+16505550101", True),
        ("16505550101", True),
        ("+1 (650) 555-0101", True),
        ("16505550100", True),  # the from number matches too
        ("6505550101", False),  # digits compared whole, not as a suffix
        ("+16505550102", False),
    ],
)
def test_phone_number_filter_compares_digits_of_from_and_to(rc, access_token, number, found):
    [sent] = _send(rc, access_token, 1, to="+16505550101")
    records = _list(rc, access_token, {"dateFrom": _since(), "phoneNumber": number})["records"]
    assert [r["id"] for r in records] == ([sent] if found else [])


def test_phone_number_filter_matches_records_stored_without_plus(rc, simulator, access_token):
    simulator.configure(store_numbers_without_plus=True)
    [sent] = _send(rc, access_token, 1, to="+16505550101")
    for number in ("+16505550101", "16505550101"):
        records = _list(rc, access_token, {"phoneNumber": number})["records"]
        assert [r["id"] for r in records] == [sent]


def test_message_ids_do_not_restart_with_the_simulator():
    before = MessageStore()._ids
    time.sleep(0.01)
    after_restart = MessageStore()._ids  # what a restarted simulator starts from
    first, second = next(before), next(after_restart)
    assert second > first > 1_700_000_000_000  # from the clock, not from the same number
