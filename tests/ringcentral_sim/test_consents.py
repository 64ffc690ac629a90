"""The v2 SMS consents API: PATCH records, search them, and the 403 without the permission."""

from __future__ import annotations

import pytest

from tests.ringcentral_sim.rc_http import error_code

CONSENTS = "/restapi/v2/accounts/~/sms/consents"
OUR_NUMBER = "+16505550100"


def patch(rc, token, *records):
    return rc.rest("PATCH", CONSENTS, token, json={"records": list(records)})


def search(rc, token, **body):
    return rc.rest("POST", f"{CONSENTS}/search", token, json=body)


def opt(to: str, status: str = "OptOut", sender: str = OUR_NUMBER, source: str = "Api") -> dict:
    return {"from": sender, "to": to, "optStatus": status, "source": source}


def test_patch_then_search_round_trip(rc, access_token):
    answer = patch(rc, access_token, opt("+15551230001"), opt("+15551230002", sender="*"))
    assert answer.status_code == 200
    assert answer.headers["X-Rate-Limit-Group"] == "Light"
    assert answer.json() == {"failedRecords": []}
    found = search(rc, access_token, optStatus="OptOut")
    assert found.status_code == 200
    assert found.headers["X-Rate-Limit-Group"] == "Light"
    records = found.json()["records"]
    assert {(r["from"], r["to"]) for r in records} == {
        (OUR_NUMBER, "+15551230001"),
        ("*", "+15551230002"),
    }
    assert all(r["source"] == "Api" for r in records)
    assert all(r["lastModifiedTime"].endswith("Z") for r in records)
    paging = found.json()["paging"]
    assert paging["perPage"] == 100
    assert "nextPageToken" not in paging
    by_to = search(rc, access_token, to=["+15551230001"]).json()["records"]
    assert [r["to"] for r in by_to] == ["+15551230001"]
    account_wide = search(rc, access_token, **{"from": ["*"]}).json()["records"]
    assert [r["to"] for r in account_wide] == ["+15551230002"]


def test_bad_records_come_back_in_failed_records(rc, access_token):
    answer = patch(
        rc,
        access_token,
        opt("+15551230001"),
        opt("555-0100"),
        opt("+15551230003", sender="+19998887777"),  # not one of the account's numbers
        opt("+15551230004", status="Maybe"),
        {"from": OUR_NUMBER, "to": "+15551230005", "optStatus": "OptOut"},  # no source
    )
    assert answer.status_code == 200
    failed = answer.json()["failedRecords"]
    assert [f.get("to") for f in failed] == [
        "555-0100",
        "+15551230003",
        "+15551230004",
        "+15551230005",
    ]
    # SmsOptFailureRecord: the record, and an ApiError {errorCode, message}.
    assert failed[0]["error"] == {
        "errorCode": "CMN-101",
        "message": "Parameter [to] value is invalid",
    }
    assert "from" in failed[1]["error"]["message"]
    stored = search(rc, access_token).json()["records"]
    assert [r["to"] for r in stored] == ["+15551230001"]


@pytest.mark.parametrize("body", [{}, {"records": []}, {"records": "x"}, []])
def test_a_patch_without_records_is_cmn_101(rc, access_token, body):
    answer = rc.rest("PATCH", CONSENTS, access_token, json=body)
    assert answer.status_code == 400
    assert error_code(answer) == "CMN-101"


def test_an_api_opt_out_blocks_sends_and_an_opt_in_unblocks_them(rc, simulator, access_token):
    patch(rc, access_token, opt("+15551230001"))
    blocked = rc.send_sms(access_token, to="+15551230001").json()
    simulator.advance_clock(10)
    after = rc.api("GET", f"/message-store/{blocked['id']}", access_token).json()
    assert after["deliveryErrorCode"] == "SMS-RC-413"
    patch(rc, access_token, opt("+15551230001", status="OptIn"))
    allowed = rc.send_sms(access_token, to="+15551230001").json()
    simulator.advance_clock(10)
    after = rc.api("GET", f"/message-store/{allowed['id']}", access_token).json()
    assert after["messageStatus"] == "Delivered"


def test_an_account_wide_opt_out_blocks_every_sender(rc, simulator, access_token):
    patch(rc, access_token, opt("+15551230001", sender="*"))
    record = rc.send_sms(access_token, to="+15551230001").json()
    simulator.advance_clock(10)
    after = rc.api("GET", f"/message-store/{record['id']}", access_token).json()
    assert after["messageStatus"] == "SendingFailed"
    assert after["deliveryErrorCode"] == "SMS-RC-413"


def test_an_api_opt_in_undoes_a_stop_keyword(rc, simulator, access_token):
    simulator.inbound("+15551230001", "STOP")
    simulator.advance_clock(1)
    patch(rc, access_token, opt("+15551230001", status="OptIn"))
    record = rc.send_sms(access_token, to="+15551230001").json()
    simulator.advance_clock(10)
    after = rc.api("GET", f"/message-store/{record['id']}", access_token).json()
    assert after["messageStatus"] == "Delivered"


def test_search_pages_by_token(rc, simulator, access_token):
    for n in range(3):
        patch(rc, access_token, opt(f"+1555123000{n}"))
        simulator.advance_clock(1)
    first = search(rc, access_token, perPage=2).json()
    assert [r["to"] for r in first["records"]] == ["+15551230002", "+15551230001"]
    next_token = first["paging"]["nextPageToken"]
    second = search(rc, access_token, perPage=2, pageToken=next_token).json()
    assert [r["to"] for r in second["records"]] == ["+15551230000"]
    assert "nextPageToken" not in second["paging"]
    clamped = search(rc, access_token, perPage=5000).json()
    assert clamped["paging"]["perPage"] == 1000


@pytest.mark.parametrize(
    "body",
    [{"perPage": 0}, {"pageToken": "garbage!"}, {"optStatus": "Maybe"}, {"to": ["555"]}],
)
def test_bad_searches_are_cmn_101(rc, access_token, body):
    answer = search(rc, access_token, **body)
    assert answer.status_code == 400
    assert error_code(answer) == "CMN-101"


@pytest.mark.parametrize("code", ["CMN-401", "CMN-408"])
def test_without_the_permission_both_endpoints_are_403(rc, simulator, access_token, code):
    simulator.configure(consents_allowed=False, consents_denied_code=code)
    for answer in (patch(rc, access_token, opt("+15551230001")), search(rc, access_token)):
        assert answer.status_code == 403
        assert error_code(answer) == code
        assert answer.json()["errors"][0]["permissionName"] == "SMS"
        assert answer.headers["X-Rate-Limit-Group"] == "Light"


def test_the_consents_api_needs_a_token_and_the_own_account(rc, access_token):
    assert rc.rest("POST", f"{CONSENTS}/search", "nope", json={}).status_code == 401
    other = rc.rest("POST", "/restapi/v2/accounts/123/sms/consents/search", access_token, json={})
    assert other.status_code == 404
    own = rc.rest(
        "POST", "/restapi/v2/accounts/400000001/sms/consents/search", access_token, json={}
    )
    assert own.status_code == 200
