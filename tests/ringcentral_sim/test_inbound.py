"""Inbound texts: POST /_sim/inbound, the records it stores, and the inbox page's forms."""

from __future__ import annotations

import requests

from tests.ringcentral_sim.rc_http import error_code


def test_an_inbound_text_is_stored_like_the_rest_api_shows_it(rc, simulator, access_token):
    answer = requests.post(
        f"{simulator.url}/_sim/inbound",
        json={"from": "+15551230001", "text": "Running late"},
        timeout=10,
    )
    assert answer.status_code == 201
    record = answer.json()
    assert record["direction"] == "Inbound"
    assert record["type"] == "SMS"
    assert record["messageStatus"] == "Received"
    assert record["readStatus"] == "Unread"
    assert record["subject"] == "Running late"
    assert record["from"] == {"phoneNumber": "+15551230001"}
    assert record["to"] == [{"phoneNumber": "+16505550100"}]  # the default SmsSender number
    assert record["creationTime"] == record["lastModifiedTime"]
    assert set(record["conversation"]) == {"id", "uri"}
    by_id = rc.api("GET", f"/message-store/{record['id']}", access_token).json()
    assert by_id == record


def test_a_reply_shares_the_conversation_of_the_text_it_answers(rc, simulator, access_token):
    sent = rc.send_sms(access_token, to="+15551230001", text="Your table is ready").json()
    reply = simulator.inbound("+15551230001", "On my way")
    other = simulator.inbound("+15551230002", "Who is this?")
    assert reply["conversation"]["id"] == sent["conversation"]["id"]
    assert other["conversation"]["id"] != sent["conversation"]["id"]


def test_lists_filter_inbound_and_outbound(rc, simulator, access_token):
    sent = rc.send_sms(access_token, to="+15551230001").json()
    got = simulator.inbound("+15551230001", "hi")

    def ids(**params):
        answer = rc.api("GET", "/message-store", access_token, params=params).json()
        return [r["id"] for r in answer["records"]]

    assert ids(direction="Inbound") == [got["id"]]
    assert ids(direction="Outbound") == [sent["id"]]
    assert ids(readStatus="Unread") == [got["id"]]
    assert ids(phoneNumber="+15551230001") == [got["id"], sent["id"]]
    assert [m["id"] for m in simulator.messages()] == [sent["id"]]  # the app's texts
    assert [m["id"] for m in simulator.messages("Inbound")] == [got["id"]]
    assert len(simulator.messages(None)) == 2
    counters = simulator.counters()
    assert counters["sms_accepted"] == 1
    assert counters["inbound_received"] == 1


def test_inbound_to_another_number_and_bad_requests(simulator):
    to_a2p = simulator.inbound("+15551230001", "hi", to="+16505550120")
    assert to_a2p["to"] == [{"phoneNumber": "+16505550120"}]
    for payload in (
        {"from": "5551230001", "text": "hi"},
        {"from": "+15551230001", "text": ""},
        {"from": "+15551230001", "text": "hi", "to": "+19999999999"},
        {"from": "+15551230001", "text": "hi", "deliveries": -1},
    ):
        answer = requests.post(f"{simulator.url}/_sim/inbound", json=payload, timeout=10)
        assert answer.status_code == 400, payload
        assert answer.json()["error"]


def test_inbound_records_follow_store_numbers_without_plus(rc, simulator, access_token):
    simulator.configure(store_numbers_without_plus=True)
    record = simulator.inbound("+15551230001", "hi")
    assert record["from"] == {"phoneNumber": "15551230001"}
    assert record["to"] == [{"phoneNumber": "16505550100"}]


def test_the_inbox_shows_both_ways_with_reply_forms(rc, simulator, access_token):
    rc.send_sms(access_token, to="+15551230001", text="Your table is ready")
    simulator.inbound("+15551230002", '<b>bold</b> & "quoted"')
    page = requests.get(f"{simulator.url}/", timeout=10).text
    assert 'class="dir dir-Inbound"' in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;" in page
    assert "<b>bold</b>" not in page
    # One reply form, on the outbound row: from the recipient, to the app's number.
    assert page.count('class="reply"') == 1
    assert '<input type="hidden" name="from" value="+15551230001">' in page
    assert '<input type="hidden" name="to" value="+16505550100">' in page
    assert "Text the app from a number" in page
    assert 'name="viewport"' in page


def test_the_reply_form_makes_an_inbound_text(rc, simulator, access_token):
    rc.send_sms(access_token, to="+15551230001", text="Your table is ready")
    answer = requests.post(
        f"{simulator.url}/_sim/inbox/reply",
        data={"from": "+15551230001", "to": "+16505550100", "text": "Thanks!"},
        headers={"Origin": simulator.url},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"
    [got] = simulator.messages("Inbound")
    assert got["from"]["phoneNumber"] == "+15551230001"
    assert got["to"] == [{"phoneNumber": "+16505550100"}]
    assert got["subject"] == "Thanks!"
    page = requests.get(f"{simulator.url}/", timeout=10).text
    assert "Thanks!" in page


def test_the_general_form_texts_the_default_number(simulator):
    answer = requests.post(
        f"{simulator.url}/_sim/inbox/reply",
        data={"from": "+15551230009", "text": "STOP"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303
    [got] = simulator.messages("Inbound")
    assert got["to"] == [{"phoneNumber": "+16505550100"}]


def test_a_bad_form_goes_back_with_an_escaped_error(simulator):
    answer = requests.post(
        f"{simulator.url}/_sim/inbox/reply",
        data={"from": "<script>", "text": "hi"},
        timeout=10,
    )
    assert answer.status_code == 200  # followed the 303 back to the inbox
    assert 'class="error"' in answer.text
    assert "<script>" not in answer.text
    assert simulator.messages("Inbound") == []


def test_other_sites_cannot_post_the_reply_form(simulator):
    form = {"from": "+15551230001", "text": "hi"}
    for headers in (
        {"Origin": "http://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Host": "evil.example"},
    ):
        answer = requests.post(
            f"{simulator.url}/_sim/inbox/reply", data=form, headers=headers, timeout=10
        )
        assert answer.status_code == 403, headers
    # The form path takes forms only; other control paths still take JSON only.
    assert requests.post(f"{simulator.url}/_sim/inbound", data=form, timeout=10).status_code == 415
    assert simulator.messages("Inbound") == []


def test_reset_forgets_inbound_texts_subscriptions_opt_outs_and_sync(
    rc, simulator, access_token, receiver
):
    subscription = {
        "eventFilters": ["/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"],
        "deliveryMode": {"transportType": "WebHook", "address": receiver.url},
    }
    assert rc.rest("POST", "/restapi/v1.0/subscription", access_token, json=subscription).ok
    simulator.inbound("+15551230001", "STOP")
    token = rc.api("GET", "/message-sync", access_token, params={"syncType": "FSync"}).json()[
        "syncInfo"
    ]["syncToken"]
    simulator.reset()
    assert simulator.messages(None) == []
    assert simulator.subscriptions() == []
    assert simulator.opt_outs() == []
    access_token = rc.login_tokens()["access_token"]
    stale = rc.api(
        "GET", "/message-sync", access_token, params={"syncType": "ISync", "syncToken": token}
    )
    assert error_code(stale) == "MSG-333"
