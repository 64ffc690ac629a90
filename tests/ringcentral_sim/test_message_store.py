"""Message-store lists held to the published API: dates, paging, navigation, filters, and the
store behaviours the reference leaves open (numbers without "+", lists that lag)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from ringcentral_sim.config import REAL_STORE_SETTINGS
from ringcentral_sim.simulator import Request
from tests.ringcentral_sim.rc_http import RcHttp, error_code, store_date

STORE = "/message-store"


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


# -- numbers without "+" ---------------------------------------------------------------------


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


def test_real_store_settings_switch_on_every_open_behaviour(simulator):
    simulator.configure(**REAL_STORE_SETTINGS)
    config = simulator.config()
    assert config["store_numbers_without_plus"] is True
    assert config["strict_store_dates"] is True
    assert config["store_list_lag_seconds"] >= 1


# -- list lag --------------------------------------------------------------------------------


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


# -- dates -----------------------------------------------------------------------------------


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


# -- paging and navigation -------------------------------------------------------------------


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


# -- filters ---------------------------------------------------------------------------------


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


# -- the request's query ---------------------------------------------------------------------


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
