"""ringcentral_sim/a2p.py: high-volume (A2P) batches and their messages, held to the published
definitions (MessageBatchResponse, BatchListResponse, MessageListResponse), over real sockets."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from ringcentral_sim import config as sim
from tests.ringcentral_sim.rc_http import RcHttp, error_code

A2P = "/restapi/v1.0/account/~/a2p-sms"
A2P_FROM = sim.DEFAULT_A2P_NUMBER
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def send_batch(
    rc: RcHttp, token: str, messages: list[dict[str, Any]], **body: Any
) -> requests.Response:
    payload = {"from": A2P_FROM, "messages": messages, **body}
    return rc.rest("POST", f"{A2P}/batches", token, json=payload)


def get(rc: RcHttp, token: str, path: str, **params: Any) -> requests.Response:
    return rc.rest("GET", f"{A2P}{path}", token, params=params)


def every_message(rc: RcHttp, token: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every record of GET a2p-sms/messages, following nextPageToken until it is absent, and
    how many pages that took."""
    records: list[dict[str, Any]] = []
    pages = 0
    token_param: dict[str, Any] = {}
    while True:
        answer = get(rc, token, "/messages", **params, **token_param)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages += 1
        records += body["records"]
        assert "totalElements" not in body["paging"]  # token paging: no totals
        next_token = body["paging"].get("nextPageToken")
        if not next_token:
            return records, pages
        token_param = {"pageToken": next_token}


def test_create_answers_201_with_the_batch(rc, simulator, access_token):
    answer = send_batch(
        rc,
        access_token,
        [{"to": ["+16505550201"]}, {"to": ["+16505550202"], "text": "Just for you"}],
        text="Hello team",
    )
    assert answer.status_code == 201, answer.text
    batch = answer.json()
    assert UUID.match(batch["id"])
    assert batch["from"] == A2P_FROM
    assert batch["batchSize"] == 2
    assert batch["processedCount"] == 0
    assert batch["status"] == "Processing"
    assert ISO_MS.match(batch["creationTime"])
    assert ISO_MS.match(batch["lastModifiedTime"])
    assert batch["cost"] == 0.0  # calculated once processing is completed
    assert batch["rejected"] == []
    assert answer.headers["X-Rate-Limit-Group"] == "Light"
    texts = {m["to"][0]: m["text"] for m in simulator.a2p_messages()}
    assert texts == {"+16505550201": "Hello team", "+16505550202": "Just for you"}
    assert simulator.a2p_batches()[0]["messageCount"] == 2
    counters = simulator.counters()
    assert (counters["a2p_batches"], counters["a2p_messages"], counters["a2p_duplicates"]) == (
        1,
        2,
        0,
    )


def test_rejected_rows_are_1_based_and_only_in_the_post_answer(rc, simulator, access_token):
    messages = [
        {"to": ["+16505550211"]},
        {"to": ["555-0199"]},  # not E.164
        {"to": ["+16505550212"], "text": ""},  # no text at all (no batch default either)
        {"to": ["+16505550213"], "text": "a" * 999 + "😀"},  # 1001 UTF-16 units
        {"to": ["+16505550214", "+16505550215"], "text": "two"},  # one number only
        {"to": ["+16505550216"], "text": "fine"},
    ]
    messages[0]["text"] = "first"
    answer = send_batch(rc, access_token, messages)
    assert answer.status_code == 201
    batch = answer.json()
    assert batch["batchSize"] == 2
    rejected = {r["index"]: r for r in batch["rejected"]}
    assert sorted(rejected) == [2, 3, 4, 5]
    assert rejected[2]["to"] == ["555-0199"]
    assert rejected[2]["errorCode"] == "CMN-100"
    assert rejected[3]["errorCode"] == "CMN-101"
    assert rejected[4]["errorCode"] == "MSG-338"
    assert rejected[5]["to"] == ["+16505550214", "+16505550215"]
    assert all(r["description"] for r in batch["rejected"])
    again = get(rc, access_token, f"/batches/{batch['id']}").json()
    assert "rejected" not in again
    assert again["batchSize"] == 2
    listed = get(rc, access_token, "/batches").json()["records"]
    assert "rejected" not in listed[0]
    assert sorted(m["to"][0] for m in simulator.a2p_messages()) == [
        "+16505550211",
        "+16505550216",
    ]


def test_sender_without_a2p_feature_or_not_the_users_is_refused(rc, simulator, access_token):
    for sender in (sim.DEFAULT_FROM_NUMBER, "+16505550999"):
        answer = send_batch(
            rc, access_token, [{"to": ["+16505550201"]}], text="x", **{"from": sender}
        )
        assert answer.status_code == 403
        assert error_code(answer) == "MSG-242"
    simulator.configure(a2p_sender_refused_code="CMN-102")
    answer = send_batch(
        rc, access_token, [{"to": ["+16505550201"]}], text="x", **{"from": "+16505550999"}
    )
    assert error_code(answer) == "CMN-102"
    assert simulator.counters()["a2p_batches"] == 0


def test_bad_bodies_and_oversized_batches_are_400_cmn_101(rc, simulator, access_token):
    url = f"{A2P}/batches"
    assert error_code(rc.rest("POST", url, access_token, data="not json")) == "CMN-101"
    for body in (
        {"from": A2P_FROM, "text": "x"},  # no messages
        {"from": A2P_FROM, "messages": []},
        {"from": A2P_FROM, "messages": [{"to": "+16505550201"}], "text": "x"},  # to not a list
        {"messages": [{"to": ["+16505550201"]}], "text": "x"},  # no from
    ):
        answer = rc.rest("POST", url, access_token, json=body)
        assert answer.status_code == 400, body
        assert error_code(answer) == "CMN-101"
    simulator.configure(a2p_max_batch_size=2)
    answer = send_batch(rc, access_token, [{"to": [f"+1650555030{i}"]} for i in range(3)], text="x")
    assert answer.status_code == 400
    assert error_code(answer) == "CMN-101"
    assert simulator.counters()["a2p_batches"] == 0


def test_without_the_app_permission_every_call_is_403_cmn_401(rc, simulator, access_token):
    simulator.configure(a2p_allowed=False)
    answer = send_batch(rc, access_token, [{"to": ["+16505550201"]}], text="x")
    assert answer.status_code == 403
    assert error_code(answer) == "CMN-401"
    assert answer.json()["errors"][0]["permissionName"] == "A2PSMS"
    assert get(rc, access_token, "/messages").status_code == 403


def test_unauthenticated_calls_are_401(rc):
    assert get(rc, "not-a-token", "/batches").status_code == 401


def test_list_finds_the_batch_whose_answer_was_dropped(rc, simulator, access_token):
    send_batch(rc, access_token, [{"to": ["+16505550221"]}], text="earlier")
    simulator.inject_fault("drop", group="Light")
    with pytest.raises(requests.ConnectionError):
        send_batch(rc, access_token, [{"to": ["+16505550222"]}], text="Did this go out?")
    assert simulator.counters()["faults"] == {"drop": 1}
    answer = get(rc, access_token, "/batches", **{"from": A2P_FROM})
    assert answer.status_code == 200
    records = answer.json()["records"]
    assert len(records) == 2
    newest = records[0]  # newest first
    assert newest["batchSize"] == 1
    stored = [m for m in simulator.a2p_messages() if m["batchId"] == newest["id"]]
    assert [(m["to"], m["text"]) for m in stored] == [(["+16505550222"], "Did this go out?")]
    # Found by id too, and its messages by batchId.
    assert get(rc, access_token, f"/batches/{newest['id']}").json()["id"] == newest["id"]
    by_batch = get(rc, access_token, "/messages", batchId=newest["id"]).json()["records"]
    assert [m["to"] for m in by_batch] == [["+16505550222"]]


def test_batch_list_filters_and_pages(rc, simulator, access_token):
    ids = [
        send_batch(rc, access_token, [{"to": [f"+1650555023{i}"]}], text=f"b{i}").json()["id"]
        for i in range(3)
    ]
    first = get(rc, access_token, "/batches", perPage=2).json()
    assert [b["id"] for b in first["records"]] == [ids[2], ids[1]]
    assert first["paging"]["perPage"] == 2
    assert "firstPageToken" in first["paging"]
    second = get(
        rc, access_token, "/batches", perPage=2, pageToken=first["paging"]["nextPageToken"]
    )
    assert [b["id"] for b in second.json()["records"]] == [ids[0]]
    assert "nextPageToken" not in second.json()["paging"]
    # `from` by digits (the definitions' example has no "+"), status as a list.
    plain = get(rc, access_token, "/batches", **{"from": A2P_FROM.lstrip("+")}).json()
    assert len(plain["records"]) == 3
    assert get(rc, access_token, "/batches", status="Completed").json()["records"] == []
    processing = get(rc, access_token, "/batches", status="Queued,Processing").json()
    assert len(processing["records"]) == 3
    assert get(rc, access_token, "/batches", status="Done").status_code == 400
    assert get(rc, access_token, "/batches", pageToken="garbage").status_code == 400
    missing = get(rc, access_token, "/batches/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert error_code(missing) == "CMN-102"


def test_messages_paging_by_token_covers_every_message_exactly_once(rc, simulator, access_token):
    for batch in range(3):
        messages = [{"to": [f"+165055504{batch}{i}"]} for i in range(4)]
        send_batch(rc, access_token, messages, text=f"batch {batch}")
    records, pages = every_message(rc, access_token, perPage=5)
    assert pages == 3
    assert len(records) == 12
    assert len({r["id"] for r in records}) == 12
    assert all(isinstance(r["id"], int) for r in records)  # MessageListMessageResponse: int64
    assert all("text" not in r for r in records)  # Simple view
    stamps = [(r["creationTime"], r["id"]) for r in records]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    # A batch sent while paging does not shift the pages already handed out.
    first = get(rc, access_token, "/messages", perPage=5).json()
    send_batch(rc, access_token, [{"to": ["+16505550499"]}], text="late")
    rest: list[dict[str, Any]] = []
    token = first["paging"]["nextPageToken"]
    while token:
        body = get(rc, access_token, "/messages", perPage=5, pageToken=token).json()
        rest += body["records"]
        token = body["paging"].get("nextPageToken")
    ids = [r["id"] for r in first["records"] + rest]
    assert sorted(ids) == sorted(r["id"] for r in records)


def test_messages_filters_and_detailed_view(rc, simulator, access_token):
    one = send_batch(rc, access_token, [{"to": ["+16505550501"]}], text="one").json()
    send_batch(rc, access_token, [{"to": ["+16505550502"]}], text="two")
    detailed = get(rc, access_token, "/messages", batchId=one["id"], view="Detailed").json()
    [record] = detailed["records"]
    assert record["text"] == "one"
    assert record["batchId"] == one["id"]
    assert record["from"] == A2P_FROM
    assert record["direction"] == "Outbound"
    assert record["segmentCount"] == 1
    by_number = get(rc, access_token, "/messages", phoneNumber="16505550502").json()["records"]
    assert [r["to"] for r in by_number] == [["+16505550502"]]
    assert len(get(rc, access_token, "/messages", direction="Outbound").json()["records"]) == 2
    assert get(rc, access_token, "/messages", direction="Inbound").json()["records"] == []
    assert get(rc, access_token, "/messages", view="Full").status_code == 400
    # GET by id: MessageDetailsResponse, a string id and the text.
    single = get(rc, access_token, f"/messages/{record['id']}").json()
    assert single["id"] == str(record["id"])
    assert single["text"] == "one"
    assert get(rc, access_token, "/messages/1").status_code == 404


def test_statuses_move_with_the_clock(rc, simulator, access_token):
    simulator.configure(
        sent_after_seconds=5,
        delivered_after_seconds=20,
        failing_numbers={"+16505550601": "SMS-CAR-411"},
        sending_failed_numbers={"+16505550602": "SMS-RC-503"},
    )
    # +16505550603 opted out with STOP to the A2P number: accepted, then SendingFailed.
    simulator.inbound("+16505550603", "STOP", to=A2P_FROM)
    numbers = ["+16505550600", "+16505550601", "+16505550602", "+16505550603"]
    batch = send_batch(rc, access_token, [{"to": [n]} for n in numbers], text="Sale!").json()
    assert batch["batchSize"] == 4

    def states() -> dict[str, tuple[str, str | None]]:
        records = get(rc, access_token, "/messages", batchId=batch["id"]).json()["records"]
        return {r["to"][0]: (r["messageStatus"], r.get("errorCode")) for r in records}

    assert set(states().values()) == {("Queued", None)}
    simulator.advance_clock(6)
    assert states() == {
        "+16505550600": ("Sent", None),
        "+16505550601": ("Sent", None),
        "+16505550602": ("SendingFailed", "SMS-RC-503"),
        "+16505550603": ("SendingFailed", "SMS-RC-413"),
    }
    after_sending = get(rc, access_token, f"/batches/{batch['id']}").json()
    assert after_sending["status"] == "Completed"
    assert after_sending["processedCount"] == 4
    assert after_sending["cost"] == pytest.approx(2 * 0.007)
    simulator.advance_clock(15)
    assert states() == {
        "+16505550600": ("Delivered", None),
        "+16505550601": ("DeliveryFailed", "SMS-CAR-411"),
        "+16505550602": ("SendingFailed", "SMS-RC-503"),
        "+16505550603": ("SendingFailed", "SMS-RC-413"),
    }
    statuses = {m["to"][0]: m["status"] for m in simulator.a2p_messages()}
    assert statuses["+16505550600"] == "Delivered"
    # The A2P code is `errorCode`, never the message store's deliveryErrorCode.
    records = get(rc, access_token, "/messages").json()["records"]
    assert all("deliveryErrorCode" not in r for r in records)


def test_duplicates_counter_counts_a_repeated_batch(rc, simulator, access_token):
    messages = [{"to": ["+16505550701"]}, {"to": ["+16505550702"]}]
    send_batch(rc, access_token, messages, text="Once only")
    assert simulator.counters()["a2p_duplicates"] == 0
    send_batch(rc, access_token, messages, text="Once only")
    counters = simulator.counters()
    assert counters["a2p_duplicates"] == 2
    assert (counters["a2p_batches"], counters["a2p_messages"]) == (2, 4)
    # Another text to the same people is no duplicate.
    send_batch(rc, access_token, messages, text="Something else")
    assert simulator.counters()["a2p_duplicates"] == 2
    simulator.reset()
    counters = simulator.counters()
    assert (counters["a2p_batches"], counters["a2p_messages"], counters["a2p_duplicates"]) == (
        0,
        0,
        0,
    )
    assert simulator.a2p_batches() == []
    assert simulator.a2p_messages() == []


def test_every_a2p_call_is_light_with_rate_limit_headers(rc, simulator, access_token):
    created = send_batch(rc, access_token, [{"to": ["+16505550801"]}], text="x").json()
    message_id = get(rc, access_token, "/messages").json()["records"][0]["id"]
    for answer in (
        get(rc, access_token, "/batches"),
        get(rc, access_token, f"/batches/{created['id']}"),
        get(rc, access_token, "/messages"),
        get(rc, access_token, f"/messages/{message_id}"),
    ):
        assert answer.status_code == 200
        assert answer.headers["X-Rate-Limit-Group"] == "Light"
        assert answer.headers["X-Rate-Limit-Limit"] == "50"
        assert "X-Rate-Limit-Remaining" in answer.headers
        assert answer.headers["X-Rate-Limit-Window"] == "60"
    simulator.configure(rate_limits={"Auth": 5, "Heavy": 10, "Medium": 40, "Light": 1})
    throttled = get(rc, access_token, "/batches")
    assert throttled.status_code == 429
    assert error_code(throttled) == "CMN-301"


def test_inbox_page_lists_a2p_texts_marked(rc, simulator, access_token):
    rc.send_sms(access_token, text="A plain one")
    send_batch(rc, access_token, [{"to": ["+16505550901"]}], text="A batch one")
    page = requests.get(f"{simulator.url}/", timeout=10).text
    assert "A batch one" in page
    assert "A plain one" in page
    assert page.count('class="dir dir-A2P"') == 1
    assert "texts (2)" in page
