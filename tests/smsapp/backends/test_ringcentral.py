"""smsapp/backends/ringcentral.py: calls to RingCentral and its message store in the formats it
publishes: store dates as `...sssZ`, numbers only "usually" E.164, paged lists."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from ringcentral_sim.config import DEFAULT_FROM_NUMBER
from smsapp.backends import ringcentral
from smsapp.backends.base import OutgoingSms, TransientSmsError
from smsapp.backends.error_text import describe
from smsapp.backends.ringcentral import RingCentralBackend, matching_records, store_time
from smsapp.models import Message
from tests.support.texts import create_texts, reconcile_after_settle, send

Status = Message.Status
TO = "+16505550101"


def _record(*, to: str, subject: str, sender: str = DEFAULT_FROM_NUMBER, id: int = 1) -> dict:
    """A message-store record shaped as the published definitions allow."""
    return {
        "id": id,
        "direction": "Outbound",
        "type": "SMS",
        "from": {"phoneNumber": sender},
        "to": [{"phoneNumber": to}],
        "subject": subject,
        "creationTime": f"2026-11-30T10:00:{id:02d}.000Z",
    }


# -- the store's formats -----------------------------------------------------------------------


def test_store_dates_are_utc_with_milliseconds_and_z():
    moment = datetime(2026, 3, 10, 10, 7, 52, 534999, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert store_time(moment) == "2026-03-10T17:07:52.534Z"
    assert store_time(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000Z"


def test_a_record_matches_whatever_way_it_writes_the_numbers():
    sms = OutgoingSms(DEFAULT_FROM_NUMBER, TO, "Hi")
    records = [
        _record(id=1, to="16505550101", subject="Hi", sender="16505550100"),
        _record(id=2, to="(650) 555-0101", subject="Hi"),
        _record(id=3, to="+16505550199", subject="Hi"),  # someone else
        _record(id=4, to=TO, subject="Hi", sender="+16505550111"),  # another sender
    ]
    assert matching_records(records, sms) == ["1", "2"]


def test_line_endings_and_surrounding_space_do_not_hide_a_text():
    sms = OutgoingSms(DEFAULT_FROM_NUMBER, TO, "Line one\nLine two ")
    assert matching_records([_record(to=TO, subject="Line one\r\nLine two")], sms) == ["1"]


def test_a_shortened_subject_counts_but_after_exact_matches():
    sms = OutgoingSms(DEFAULT_FROM_NUMBER, TO, "A long text " * 20)
    records = [
        _record(id=1, to=TO, subject="A long text A long"),  # shortened by the store
        _record(id=2, to=TO, subject=sms.text),
        _record(id=3, to=TO, subject=""),  # says nothing about the text
        _record(id=4, to=TO, subject="A different text"),
    ]
    assert matching_records(records, sms) == ["2", "1"]


# -- against the simulator ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_search_follows_the_next_page_links_to_the_end(sms_settings, simulator, monkeypatch):
    monkeypatch.setattr(ringcentral, "STORE_PAGE_SIZE", 2)
    simulator.configure(store_list_lag_seconds=2.0)  # so the first lookup misses it
    simulator.inject_fault("drop", group="Medium")
    [dropped] = create_texts(TO, text="The one that was dropped")
    dropped = send(dropped)
    assert dropped.status == Status.UNCERTAIN
    # Five newer texts to the same number: lists are newest first, so ours is on page 3.
    for n in range(5):
        send(create_texts(TO, text=f"Newer text {n}")[0])
    time.sleep(2.0)
    before = simulator.counters()["requests"]["Light"]
    dropped = reconcile_after_settle(dropped, sms_settings)
    assert dropped.status == Status.SENT
    assert simulator.counters()["requests"]["Light"] - before == 3
    assert simulator.counters()["sms_accepted"] == 6


@pytest.mark.django_db
def test_a_store_that_refuses_our_dates_leaves_the_text_uncertain_never_resent(
    sms_settings, simulator, monkeypatch
):
    # What the previous form (+00:00, microseconds) got from a strict store: not proof of
    # absence, so nothing is sent again.
    monkeypatch.setattr(ringcentral, "store_time", lambda moment: moment.isoformat())
    simulator.configure(strict_store_dates=True)
    simulator.inject_fault("drop", group="Medium")
    [message] = create_texts(TO)
    send(message)
    message = reconcile_after_settle(message, sms_settings)
    assert message.status == Status.UNCERTAIN
    assert simulator.counters()["sms_accepted"] == 1


@pytest.mark.django_db
def test_a_failed_ringcentral_call_keeps_its_cause_for_the_log_and_the_reason(
    sms_settings, simulator, caplog
):
    simulator.inject_fault("drop", group="Light")  # the connection closes without an answer
    with pytest.raises(TransientSmsError) as failed:
        RingCentralBackend().delivery("123")
    cause = failed.value.__cause__
    assert isinstance(cause, requests.ConnectionError)
    detail = describe(cause)
    assert "RemoteDisconnected" in detail  # what happened, not only "ConnectionError"
    assert failed.value.reason == f"could not reach RingCentral ({detail})"
    assert any(detail in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
