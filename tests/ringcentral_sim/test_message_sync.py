"""ringcentral_sim/sync.py: message-sync, full (FSync) and incremental (ISync) with overlap."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.ringcentral_sim.rc_http import error_code, store_date

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def fsync(rc, token, **params):
    return rc.api("GET", "/message-sync", token, params={"syncType": "FSync", **params})


def isync(rc, token, sync_token):
    params = {"syncType": "ISync", "syncToken": sync_token}
    return rc.api("GET", "/message-sync", token, params=params)


def ids(answer) -> list[int]:
    return [r["id"] for r in answer.json()["records"]]


def test_a_full_sync_returns_both_directions_and_sync_info(rc, simulator, access_token):
    sent = rc.send_sms(access_token, to="+15551230001").json()
    got = simulator.inbound("+15551230001", "hi")
    answer = fsync(rc, access_token, messageType="SMS")
    assert answer.status_code == 200
    assert answer.headers["X-Rate-Limit-Group"] == "Light"
    data = answer.json()
    assert set(ids(answer)) == {sent["id"], got["id"]}
    info = data["syncInfo"]
    assert info["syncType"] == "FSync"
    assert ISO_MS.match(info["syncTime"])
    assert info["olderRecordsExist"] is False
    assert isinstance(info["syncToken"], str)
    assert info["syncToken"]
    assert "paging" not in data
    assert "navigation" not in data
    inbound = next(r for r in data["records"] if r["direction"] == "Inbound")
    assert inbound["subject"] == "hi"


def test_direction_filter_and_record_count(rc, simulator, access_token):
    rc.send_sms(access_token, to="+15551230001")
    first = simulator.inbound("+15551230001", "one")
    simulator.advance_clock(1)
    second = simulator.inbound("+15551230001", "two")
    simulator.advance_clock(1)
    third = simulator.inbound("+15551230001", "three")
    assert set(ids(fsync(rc, access_token, direction="Inbound"))) == {
        first["id"],
        second["id"],
        third["id"],
    }
    limited = fsync(rc, access_token, direction="Inbound", recordCount="2")
    assert ids(limited) == [third["id"], second["id"]]  # the newest
    assert limited.json()["syncInfo"]["olderRecordsExist"] is True


def test_date_from_defaults_to_24_hours_and_is_strict(rc, simulator, access_token):
    simulator.inbound("+15551230001", "yesterday")
    simulator.advance_clock(25 * 3600)
    access_token = rc.login_tokens()["access_token"]  # the first one expired meanwhile
    recent = simulator.inbound("+15551230001", "today")
    assert ids(fsync(rc, access_token)) == [recent["id"]]
    start = datetime.now(UTC) - timedelta(hours=30)
    assert len(ids(fsync(rc, access_token, dateFrom=store_date(start)))) == 2
    bad = fsync(rc, access_token, dateFrom="2026-01-01T00:00:00+00:00")
    assert bad.status_code == 400
    assert error_code(bad) == "CMN-101"


@pytest.mark.parametrize(
    "params",
    [
        {"syncType": "Full"},
        {},
        {"syncType": "FSync", "messageType": "Letter"},
        {"syncType": "FSync", "recordCount": "0"},
        {"syncType": "ISync"},
    ],
)
def test_bad_parameters_are_cmn_101(rc, access_token, params):
    answer = rc.api("GET", "/message-sync", access_token, params=params)
    assert answer.status_code == 400
    assert error_code(answer) == "CMN-101"


def test_an_incremental_sync_overlaps_the_previous_one(rc, simulator, access_token):
    first = simulator.inbound("+15551230001", "one")
    token = fsync(rc, access_token).json()["syncInfo"]["syncToken"]
    simulator.advance_clock(2)
    # Changed within 5 s before the last syncTime: it comes again (the app dedupes by id).
    again = isync(rc, access_token, token)
    assert again.json()["syncInfo"]["syncType"] == "ISync"
    assert ids(again) == [first["id"]]
    simulator.advance_clock(10)
    # Still inside the overlap of the sync 2 s after it: a record can come in two syncs.
    twice = isync(rc, access_token, again.json()["syncInfo"]["syncToken"])
    assert ids(twice) == [first["id"]]
    second = simulator.inbound("+15551230001", "two")
    later = isync(rc, access_token, twice.json()["syncInfo"]["syncToken"])
    assert ids(later) == [second["id"]]
    assert later.json()["syncInfo"]["olderRecordsExist"] is False


def test_the_overlap_is_a_setting(rc, simulator, access_token):
    simulator.configure(sync_overlap_seconds=0)
    simulator.inbound("+15551230001", "one")
    token = fsync(rc, access_token).json()["syncInfo"]["syncToken"]
    simulator.advance_clock(1)
    assert ids(isync(rc, access_token, token)) == []


def test_an_outbound_status_change_shows_in_the_next_incremental_sync(rc, simulator, access_token):
    simulator.configure(sent_after_seconds=10, delivered_after_seconds=30, sync_overlap_seconds=1)
    sent = rc.send_sms(access_token, to="+15551230001").json()
    full = fsync(rc, access_token).json()
    assert [r["messageStatus"] for r in full["records"]] == ["Queued"]
    simulator.advance_clock(15)
    now_sent = isync(rc, access_token, full["syncInfo"]["syncToken"]).json()
    [record] = now_sent["records"]
    assert record["id"] == sent["id"]
    assert record["messageStatus"] == "Sent"
    assert record["lastModifiedTime"] > sent["lastModifiedTime"]
    simulator.advance_clock(5)
    quiet = isync(rc, access_token, now_sent["syncInfo"]["syncToken"]).json()
    assert quiet["records"] == []
    simulator.advance_clock(20)
    delivered = isync(rc, access_token, quiet["syncInfo"]["syncToken"]).json()
    assert [r["messageStatus"] for r in delivered["records"]] == ["Delivered"]


def test_an_incremental_sync_keeps_the_full_syncs_filters(rc, simulator, access_token):
    token = fsync(rc, access_token, direction="Inbound").json()["syncInfo"]["syncToken"]
    rc.send_sms(access_token, to="+15551230001")
    got = simulator.inbound("+15551230001", "hi")
    assert ids(isync(rc, access_token, token)) == [got["id"]]


def test_a_bad_or_reset_sync_token_is_msg_333(rc, simulator, access_token):
    unknown = isync(rc, access_token, "not-a-token")
    assert unknown.status_code == 400
    assert error_code(unknown) == "MSG-333"
    token = fsync(rc, access_token).json()["syncInfo"]["syncToken"]
    assert isync(rc, access_token, token).status_code == 200
    assert simulator.reset_sync() >= 1
    assert error_code(isync(rc, access_token, token)) == "MSG-333"


def test_sync_tokens_can_expire(rc, simulator, access_token):
    simulator.configure(sync_token_ttl_seconds=60)
    token = fsync(rc, access_token).json()["syncInfo"]["syncToken"]
    simulator.advance_clock(61)
    assert error_code(isync(rc, access_token, token)) == "MSG-333"


def test_sync_records_follow_store_numbers_without_plus(rc, simulator, access_token):
    simulator.configure(store_numbers_without_plus=True)
    simulator.inbound("+15551230001", "hi")
    [record] = fsync(rc, access_token).json()["records"]
    assert record["from"] == {"phoneNumber": "15551230001"}


def test_message_sync_needs_a_token(rc):
    answer = rc.api("GET", "/message-sync", "no-such-token", params={"syncType": "FSync"})
    assert answer.status_code == 401
