"""campaigns/services/a2p.py: A2P batches exactly once (docs/a2p.md).

Every test runs against the simulator over a real socket: lost answers, errors, 429s, refused
logins and slow answers are its faults and settings, other batches in a lookup window are real
batches sent to it, and time that must pass is moved in our database. One test alone changes a
real answer after it arrived, for the one case the simulator cannot act out (its docstring
says why)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from auth_tokens.rest import ringcentral_request
from campaigns import a2p_client
from campaigns.a2p_client import BatchAnswer
from campaigns.models import A2PBatch, BulkRecipient, BulkSend
from campaigns.services import a2p
from campaigns.services.a2p import a2p_poll_statuses, a2p_send_next_batch, a2p_settle_uncertain
from ringcentral_sim.config import DEFAULT_A2P_NUMBER, DEFAULT_FROM_NUMBER, default_user
from smsapp.models import OptOut

Row = BulkRecipient.Status
Batch = A2PBatch.Status
A2P = DEFAULT_A2P_NUMBER  # +16505550120, with A2PSmsSender
NOT_A2P = DEFAULT_FROM_NUMBER  # +16505550100, an SmsSender only
NO_RECEIPT_NUMBER = "+15005550005"  # the simulator's carrier never sends a receipt


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"+1415555{i:04d}" for i in range(start, start + count)]


def make_bulk(
    to: list[str],
    *,
    from_number: str = A2P,
    texts: list[str] | None = None,
    status: str = BulkSend.Status.RUNNING,
) -> BulkSend:
    """A confirmed A2P bulk send with one PENDING row per number (lines from 2)."""
    bulk = BulkSend.objects.create(
        text="Hello {first_name}",
        phone_column="phone",
        via=BulkSend.Via.A2P,
        from_number=from_number,
        status=status,
        row_count=len(to),
        valid_count=len(to),
    )
    BulkRecipient.objects.bulk_create(
        BulkRecipient(
            bulk=bulk,
            line=i + 2,
            raw_number=number,
            number=number,
            text=texts[i] if texts else f"Hello {i}, your table is ready",
            status=Row.PENDING,
        )
        for i, number in enumerate(to)
    )
    return bulk


def statuses(bulk: BulkSend) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in BulkRecipient.objects.filter(bulk=bulk).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def row(bulk: BulkSend, number: str) -> BulkRecipient:
    return BulkRecipient.objects.get(bulk=bulk, number=number)


def send_all(bulk: BulkSend) -> list[A2PBatch]:
    """What the feeder does: batches until none is sent."""
    sent = []
    while (batch := a2p_send_next_batch(bulk=bulk)) is not None:
        sent.append(batch)
        if batch.status != Batch.ACCEPTED:
            break
    return sent


def age_attempts(settings: Any, seconds: float | None = None) -> None:
    """As if every uncertain attempt ended longer ago than the settle time."""
    ago = timedelta(seconds=seconds or settings.SMS_UNCERTAIN_SETTLE_SECONDS + 1)
    A2PBatch.objects.filter(status=Batch.UNCERTAIN).update(attempt_ended_at=timezone.now() - ago)


def poll_now() -> int:
    A2PBatch.objects.filter(status=Batch.ACCEPTED).update(next_poll_at=None)
    return a2p_poll_statuses()


@pytest.fixture
def a2p_settings(sms_settings):
    sms_settings.SMS_A2P_FROM_NUMBER = A2P
    sms_settings.SMS_A2P_BATCH_SIZE = 200
    return sms_settings


# -- the simulator over HTTP ---------------------------------------------------------------------


@pytest.mark.django_db
def test_490_rows_go_out_in_three_requests_and_are_delivered_once(
    a2p_settings, simulator, monkeypatch
):
    # Pages of 150 so that every batch's messages take two pages to read.
    monkeypatch.setattr(a2p_client, "PAGE_SIZE", 150)
    bulk = make_bulk(numbers(490))

    batches = send_all(bulk)

    assert [b.status for b in batches] == [Batch.ACCEPTED] * 3
    assert [b.size for b in batches] == [200, 200, 90]
    assert len({b.ringcentral_id for b in batches}) == 3
    assert statuses(bulk) == {Row.QUEUED: 490}
    assert a2p_send_next_batch(bulk=bulk) is None  # nothing left
    first = BulkRecipient.objects.filter(bulk=bulk).order_by("line")[:200]
    assert {r.batch_id for r in first} == {batches[0].pk}  # by line

    simulator.advance_clock(10)
    assert poll_now() == 490
    assert statuses(bulk) == {Row.DELIVERED: 490}
    assert all(b.polls_done and b.next_poll_at is None for b in A2PBatch.objects.all())
    assert BulkRecipient.objects.filter(bulk=bulk, ringcentral_id="").count() == 0
    counters = simulator.counters()
    assert counters["a2p_batches"] == 3
    assert counters["a2p_messages"] == 490
    assert counters["a2p_duplicates"] == 0
    # The text each row carried, to its own number.
    sent = {m["to"][0]: m["text"] for m in simulator.a2p_messages()}
    assert sent[numbers(1, 7)[0]] == "Hello 7, your table is ready"
    assert poll_now() == 0  # polling is over


@pytest.mark.django_db
def test_statuses_follow_the_clock_with_backoff_until_final(a2p_settings, simulator):
    bulk = make_bulk([*numbers(3), NO_RECEIPT_NUMBER, "+15005550001", "+15005550004"])
    [batch] = send_all(bulk)
    assert batch.next_poll_at > timezone.now()  # the first look is a few seconds later
    assert a2p_poll_statuses() == 0  # not due yet

    assert poll_now() == 0  # all still Queued at RingCentral
    batch.refresh_from_db()
    assert batch.next_poll_at >= timezone.now() + a2p.FIRST_POLL - timedelta(seconds=1)
    assert not batch.polls_done

    simulator.advance_clock(10)
    assert poll_now() == 6
    assert statuses(bulk) == {Row.DELIVERED: 3, Row.SENT: 1, Row.FAILED: 2}
    invalid = row(bulk, "+15005550001")
    assert invalid.error_code == "SMS-CAR-411"
    assert invalid.skip_reason  # a reason staff can read
    assert row(bulk, "+15005550004").error_code == "SMS-RC-413"
    batch.refresh_from_db()
    assert not batch.polls_done  # the Sent one may still get a receipt

    # A day after: the receiptless one stays SENT with the reason, and polling ends.
    A2PBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(days=1))
    poll_now()
    batch.refresh_from_db()
    assert batch.polls_done
    no_receipt = row(bulk, NO_RECEIPT_NUMBER)
    assert no_receipt.status == Row.SENT
    assert no_receipt.error_code == "NO-RECEIPT"


@pytest.mark.django_db
def test_rows_still_queued_a_day_later_fail_with_a_reason(a2p_settings, simulator):
    bulk = make_bulk(numbers(2))
    [batch] = send_all(bulk)
    A2PBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(days=1))
    assert poll_now() == 2  # the simulator's clock has not moved: still Queued
    assert statuses(bulk) == {Row.FAILED: 2}
    assert row(bulk, numbers(1)[0]).error_code == a2p.STILL_QUEUED_CODE


@pytest.mark.django_db
def test_refused_recipients_are_recorded_from_the_answer_with_their_code(a2p_settings, simulator):
    to = numbers(5)
    to[1] = "+1415555"  # too short for E.164: the simulator refuses the recipient
    texts = [f"Hello {i}" for i in range(5)]
    texts[3] = "x" * 1001  # over RingCentral's 1000 characters
    bulk = make_bulk(to, texts=texts)

    [batch] = send_all(bulk)

    assert batch.status == Batch.ACCEPTED
    assert batch.error == "2 refused by RingCentral"
    short = row(bulk, "+1415555")
    assert (short.status, short.error_code) == (Row.REJECTED, "CMN-100")
    assert "CMN-100" in short.skip_reason
    long = row(bulk, to[3])
    assert (long.status, long.error_code) == (Row.REJECTED, "MSG-338")
    assert statuses(bulk) == {Row.QUEUED: 3, Row.REJECTED: 2}

    simulator.advance_clock(10)
    assert poll_now() == 3
    assert statuses(bulk) == {Row.DELIVERED: 3, Row.REJECTED: 2}
    batch.refresh_from_db()
    assert batch.polls_done


@pytest.mark.django_db
def test_a_lost_answer_is_found_in_the_batch_list_and_never_sent_twice(a2p_settings, simulator):
    bulk = make_bulk(numbers(50))
    simulator.inject_fault("drop", group="Light")  # processed, then no answer

    [batch] = send_all(bulk)

    assert batch.status == Batch.UNCERTAIN
    assert batch.attempt_ended_at is not None
    assert statuses(bulk) == {Row.BATCHED: 50}
    # Nothing more from this sender while it is uncertain: it must stay recognisable.
    other = make_bulk(numbers(5, start=100))
    assert a2p_send_next_batch(bulk=other) is None
    assert a2p_settle_uncertain() == 0  # not before the settle time

    age_attempts(a2p_settings)
    assert a2p_settle_uncertain() == 1

    batch.refresh_from_db()
    [record] = simulator.a2p_batches()
    assert (batch.status, batch.ringcentral_id, batch.attempts) == (
        Batch.ACCEPTED,
        record["id"],
        1,
    )
    assert statuses(bulk) == {Row.QUEUED: 50}
    counters = simulator.counters()
    assert (counters["a2p_batches"], counters["a2p_duplicates"]) == (1, 0)

    simulator.advance_clock(10)
    assert poll_now() == 50
    assert statuses(bulk) == {Row.DELIVERED: 50}


@pytest.mark.django_db
def test_an_adopted_batch_rejects_the_rows_ringcentral_never_listed(a2p_settings, simulator):
    # The answer naming the refused recipient was lost: its row is decided once RingCentral
    # lists the whole (Completed) batch without it.
    to = numbers(4)
    to[2] = "+1415555"
    bulk = make_bulk(to)
    simulator.inject_fault("drop", group="Light")
    [batch] = send_all(bulk)
    age_attempts(a2p_settings)

    assert a2p_settle_uncertain() == 1  # batchSize 3 of our 4: still ours
    batch.refresh_from_db()
    assert batch.status == Batch.ACCEPTED
    assert statuses(bulk) == {Row.QUEUED: 4}

    simulator.advance_clock(10)
    poll_now()
    assert statuses(bulk) == {Row.DELIVERED: 3, Row.REJECTED: 1}
    assert row(bulk, "+1415555").error_code == a2p.NOT_LISTED_CODE
    batch.refresh_from_db()
    assert batch.polls_done
    assert simulator.counters()["a2p_batches"] == 1


@pytest.mark.django_db
def test_a_batch_the_list_lacks_is_sent_again_once(a2p_settings, simulator):
    bulk = make_bulk(numbers(20))
    simulator.inject_fault("drop_before", group="Light")  # no answer, never processed

    [batch] = send_all(bulk)
    assert batch.status == Batch.UNCERTAIN
    age_attempts(a2p_settings)

    assert a2p_settle_uncertain() == 1
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == (Batch.ACCEPTED, 2)
    assert statuses(bulk) == {Row.QUEUED: 20}
    assert a2p_settle_uncertain() == 0  # settled for good
    counters = simulator.counters()
    assert (counters["a2p_batches"], counters["a2p_messages"], counters["a2p_duplicates"]) == (
        1,
        20,
        0,
    )


@pytest.mark.django_db
def test_a_lookup_that_fails_leaves_the_batch_uncertain_and_sends_nothing(a2p_settings, simulator):
    bulk = make_bulk(numbers(10))
    simulator.inject_fault("drop", group="Light")
    [batch] = send_all(bulk)
    age_attempts(a2p_settings)
    simulator.inject_fault("error", group="Light", status=503)  # the batch list

    assert a2p_settle_uncertain() == 0
    batch.refresh_from_db()
    assert batch.status == Batch.UNCERTAIN
    assert simulator.counters()["a2p_batches"] == 1

    assert a2p_settle_uncertain() == 1  # the next run reads the list
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == (Batch.ACCEPTED, 1)
    assert simulator.counters()["a2p_duplicates"] == 0


@pytest.mark.django_db
def test_a_sender_without_a2p_fails_the_batch_with_ringcentrals_code(a2p_settings, simulator):
    bulk = make_bulk(numbers(5), from_number=NOT_A2P)

    [batch] = send_all(bulk)

    assert batch.status == Batch.FAILED
    code = batch.error.split(":")[0]
    assert code.startswith(("MSG-", "CMN-", "FEA-"))  # RingCentral's code, first
    assert "A2PSmsSender" in batch.error
    assert statuses(bulk) == {Row.FAILED: 5}
    failed = row(bulk, numbers(1)[0])
    assert failed.error_code == code
    assert failed.skip_reason
    assert simulator.counters()["a2p_batches"] == 0


@pytest.mark.django_db
def test_an_app_without_the_a2psms_permission_fails_the_batch(a2p_settings, simulator):
    simulator.configure(a2p_allowed=False)
    bulk = make_bulk(numbers(2))
    [batch] = send_all(bulk)
    assert batch.status == Batch.FAILED
    assert batch.error.startswith("CMN-401: ")
    assert statuses(bulk) == {Row.FAILED: 2}


@pytest.mark.django_db
def test_a_lost_answer_for_an_all_refused_batch_is_sent_again_for_the_reasons(
    a2p_settings, simulator
):
    # RingCentral lists it with batchSize 0: nothing of it went out, so sending it again
    # texts nobody twice and brings back why each row was refused.
    bulk = make_bulk(["+1415555", "+1415556"])
    simulator.inject_fault("drop", group="Light")
    [batch] = send_all(bulk)
    age_attempts(a2p_settings)

    assert a2p_settle_uncertain() == 1
    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.polls_done) == (Batch.ACCEPTED, 2, True)
    assert statuses(bulk) == {Row.REJECTED: 2}
    assert {r.error_code for r in BulkRecipient.objects.filter(bulk=bulk)} == {"CMN-100"}
    counters = simulator.counters()
    assert (counters["a2p_messages"], counters["a2p_duplicates"]) == (0, 0)


@pytest.mark.django_db
def test_a_number_opted_out_since_the_preview_is_canceled_not_sent(a2p_settings, simulator):
    to = numbers(3)
    bulk = make_bulk(to)
    OptOut.objects.create(our_number=A2P, their_number=to[1], source=OptOut.Source.KEYWORD)
    OptOut.objects.create(our_number="*", their_number=to[2], source=OptOut.Source.STAFF)

    [batch] = send_all(bulk)

    assert batch.size == 1
    assert statuses(bulk) == {Row.QUEUED: 1, Row.CANCELED: 2}
    canceled = row(bulk, to[1])
    assert canceled.batch is None
    assert "opted out" in canceled.skip_reason
    assert [m["to"] for m in simulator.a2p_messages()] == [[to[0]]]


@pytest.mark.django_db
def test_a_503_puts_the_rows_back_and_the_next_call_sends_them(a2p_settings, simulator):
    bulk = make_bulk(numbers(5))
    simulator.inject_fault("error", group="Light", status=503)

    assert a2p_send_next_batch(bulk=bulk) is None
    assert statuses(bulk) == {Row.PENDING: 5}
    assert not A2PBatch.objects.exists()  # deleted: nothing to poll or settle

    batch = a2p_send_next_batch(bulk=bulk)
    assert batch is not None
    assert batch.status == Batch.ACCEPTED
    assert simulator.counters()["a2p_batches"] == 1


@pytest.mark.django_db
def test_a_500_may_have_been_processed_so_it_is_looked_up(a2p_settings, simulator):
    bulk = make_bulk(numbers(5))
    simulator.inject_fault("error", group="Light", status=500)

    [batch] = send_all(bulk)

    assert batch.status == Batch.UNCERTAIN
    assert statuses(bulk) == {Row.BATCHED: 5}


@pytest.mark.django_db
def test_only_a_running_a2p_bulk_is_sent(a2p_settings, simulator):
    paused = make_bulk(numbers(3), status=BulkSend.Status.PAUSED)
    assert a2p_send_next_batch(bulk=paused) is None
    pipeline = make_bulk(numbers(3, start=10))
    BulkSend.objects.filter(pk=pipeline.pk).update(via=BulkSend.Via.PIPELINE)
    assert a2p_send_next_batch(bulk=pipeline) is None
    assert simulator.counters()["a2p_batches"] == 0


# -- two feeders at once -------------------------------------------------------------------------


def _feed_concurrently(bulks: list[BulkSend], feeders: int = 3, seconds: float = 60.0) -> list[Any]:
    """`feeders` threads, feeder i calling a2p_send_next_batch for bulks[i % len(bulks)] until
    none of the bulks has a PENDING row."""
    errors: list[Any] = []
    start = threading.Barrier(feeders)

    def feed(bulk: BulkSend) -> None:
        try:
            start.wait()
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if not BulkRecipient.objects.filter(bulk__in=bulks, status=Row.PENDING).exists():
                    return
                if a2p_send_next_batch(bulk=bulk) is None:
                    time.sleep(0.01)  # another feeder's batch is in flight
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=feed, args=(bulks[i % len(bulks)],)) for i in range(feeders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 10)
    return errors


@pytest.fixture
def slow_optout_check(monkeypatch) -> None:
    """Widen the window between reading the PENDING rows and claiming them (the opt-out check
    sits between the two): a claim that is not atomic then loses every time."""
    real = a2p.opted_out_numbers

    def slow(**kwargs: Any) -> list[str]:
        time.sleep(0.2)
        return real(**kwargs)

    monkeypatch.setattr(a2p, "opted_out_numbers", slow)


@pytest.mark.django_db(transaction=True)
def test_concurrent_feeders_never_put_a_row_in_two_batches(
    a2p_settings, simulator, slow_optout_check
):
    a2p_settings.SMS_A2P_BATCH_SIZE = 40
    bulk = make_bulk(numbers(200))

    assert _feed_concurrently([bulk]) == []

    assert statuses(bulk) == {Row.QUEUED: 200}
    batches = list(A2PBatch.objects.filter(bulk=bulk))
    assert sum(b.size for b in batches) == 200
    assert all(b.status == Batch.ACCEPTED for b in batches)
    counters = simulator.counters()
    assert (counters["a2p_messages"], counters["a2p_duplicates"]) == (200, 0)
    assert counters["a2p_batches"] == len(batches) == 5


@pytest.mark.django_db(transaction=True)
def test_one_sender_never_has_two_batch_requests_in_flight(a2p_settings, simulator):
    # Two bulk sends from the same number, two feeders each: the batch requests still go out
    # one after another, so a lost answer can always be matched to the one request in flight.
    # The simulator creates each batch, then waits `slow` seconds before answering: a request
    # sent while another was in flight would create its batch less than `slow` after that one.
    slow = 0.2
    a2p_settings.SMS_A2P_BATCH_SIZE = 25
    bulks = [make_bulk(numbers(100)), make_bulk(numbers(100, start=1000))]
    simulator.inject_fault("delay_after", group="Light", seconds=slow, count=8)

    assert _feed_concurrently(bulks, feeders=4) == []

    created = sorted(
        datetime.fromisoformat(record["creationTime"]) for record in simulator.a2p_batches()
    )
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(created)]
    assert len(gaps) == 7
    assert min(gaps) >= slow - 0.005  # creationTime has milliseconds
    assert simulator.counters()["faults"]["delay_after"] == 8
    assert all(statuses(bulk) == {Row.QUEUED: 100} for bulk in bulks)
    counters = simulator.counters()
    assert (counters["a2p_batches"], counters["a2p_messages"], counters["a2p_duplicates"]) == (
        8,
        200,
        0,
    )


# -- outcomes acted out with the simulator's settings and faults ---------------------------------


OTHER_A2P = "+16505550199"


def messages(count: int, start: int) -> list[tuple[str, str]]:
    """(number, text) pairs for a batch sent straight to the simulator, not from a bulk."""
    return [(number, f"Unrelated {number}") for number in numbers(count, start=start)]


def _rate_limited(simulator: Any) -> None:
    # Light holds one request a window, and another client of the same app and user (nothing
    # our fleet limiter saw) has just spent it: the batch request gets RingCentral's 429.
    simulator.configure(rate_limits={**simulator.config()["rate_limits"], "Light": 1})
    assert ringcentral_request("GET", a2p_client.BATCHES_PATH).status_code == 200


def _unavailable(simulator: Any) -> None:
    simulator.inject_fault("error", group="Light", status=503)


def _login_refused(simulator: Any) -> None:
    # The user can no longer log in (OAU-141): no token, so no batch request at all.
    simulator.configure(users=[{**default_user(), "state": "Disabled"}])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "setup",
    [_rate_limited, _unavailable, _login_refused],
    ids=["rate-limited", "transient", "auth"],
)
def test_a_request_certainly_not_processed_puts_the_rows_back(a2p_settings, simulator, setup):
    bulk = make_bulk(numbers(3))
    setup(simulator)

    assert a2p_send_next_batch(bulk=bulk) is None

    assert statuses(bulk) == {Row.PENDING: 3}
    assert not A2PBatch.objects.exists()
    counters = simulator.counters()
    assert counters["a2p_batches"] == 0
    if setup is _rate_limited:
        assert counters["rate_limited"] == {"Light": 1}  # the simulator's 429, not ours
    if setup is _login_refused:
        assert counters["requests"].get("Light", 0) == 0  # refused at the login


@pytest.mark.django_db
def test_rejections_are_matched_by_index_and_checked_against_the_number(
    a2p_settings, simulator, monkeypatch
):
    """The simulator always answers `rejected[].index` counting from 1 and `to` as sent, so
    its index and number never disagree. Counting from 1 is only our reading of RingCentral
    (docs/simulator.md, "High-volume (A2P) batches"), and the simulator has no setting for an
    answer that counts otherwise. So this test alone patches: the batch goes to the simulator
    over the socket as usual, and in its real answer one rejection gets index 1 (another row's
    position) and its number without "+"."""
    to = numbers(4)
    to[1] = "+1415555"  # too short for E.164: CMN-100
    texts = [f"Hello {i}" for i in range(4)]
    texts[3] = "x" * 1001  # MSG-338
    bulk = make_bulk(to, texts=texts)
    real = a2p_client.send_batch
    answers: list[BatchAnswer] = []

    def index_off(from_number: str, batch: list[tuple[str, str]]) -> BatchAnswer:
        answer = real(from_number, batch)
        answers.append(answer)
        moved = tuple(
            replace(r, index=1, to=tuple(n.removeprefix("+") for n in r.to))
            if r.code == "MSG-338"
            else r
            for r in answer.rejected
        )
        return replace(answer, rejected=moved)

    monkeypatch.setattr(a2p_client, "send_batch", index_off)

    [batch] = send_all(bulk)

    [answer] = answers
    assert {(r.index, r.code) for r in answer.rejected} == {(2, "CMN-100"), (4, "MSG-338")}
    assert batch.status == Batch.ACCEPTED
    assert row(bulk, to[1]).error_code == "CMN-100"
    assert row(bulk, to[3]).error_code == "MSG-338"
    assert row(bulk, to[0]).status == Row.QUEUED
    assert statuses(bulk) == {Row.QUEUED: 2, Row.REJECTED: 2}


@pytest.mark.django_db
def test_a_refusal_fails_the_batch_and_every_row_with_the_code(a2p_settings, simulator):
    bulk = make_bulk(numbers(3), from_number=NOT_A2P)  # 403 MSG-242: not an A2P sender
    [batch] = send_all(bulk)
    assert batch.status == Batch.FAILED
    assert batch.error.startswith("MSG-242: ")
    assert statuses(bulk) == {Row.FAILED: 3}
    assert simulator.counters()["a2p_batches"] == 0


@pytest.mark.django_db
def test_settle_never_takes_another_batchs_record_or_a_bigger_one(a2p_settings, simulator):
    user = default_user()
    user["phone_numbers"].append(
        {**user["phone_numbers"][1], "id": 500000009, "phoneNumber": OTHER_A2P}
    )
    simulator.configure(users=[user])
    bulk = make_bulk(numbers(10))
    # In the lookup window, three batches that are not this one.
    taken = a2p_client.send_batch(A2P, messages(10, start=100))
    other = A2PBatch.objects.create(
        bulk=bulk, from_number=A2P, status=Batch.ACCEPTED, size=10, ringcentral_id=taken.id
    )
    bigger = a2p_client.send_batch(A2P, messages(11, start=200))  # more texts than ours
    elsewhere = a2p_client.send_batch(OTHER_A2P, messages(10, start=300))  # another sender's
    simulator.inject_fault("drop_before", group="Light")  # ours never reaches RingCentral
    [batch] = send_all(bulk)
    assert batch.status == Batch.UNCERTAIN
    listed = {(r["id"], r["from"], r["batchSize"]) for r in simulator.a2p_batches()}
    assert listed == {(taken.id, A2P, 10), (bigger.id, A2P, 11), (elsewhere.id, OTHER_A2P, 10)}
    age_attempts(a2p_settings)

    assert a2p_settle_uncertain() == 1
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == (Batch.ACCEPTED, 2)  # sent again
    newest = simulator.a2p_batches()[0]
    assert batch.ringcentral_id == newest["id"]
    assert batch.ringcentral_id not in {taken.id, bigger.id, elsewhere.id}
    assert (newest["from"], newest["batchSize"]) == (A2P, 10)
    other.refresh_from_db()
    assert other.ringcentral_id == taken.id
    assert statuses(bulk) == {Row.QUEUED: 10}
    counters = simulator.counters()
    assert (counters["a2p_batches"], counters["a2p_duplicates"]) == (4, 0)


@pytest.mark.django_db
def test_settle_prefers_a_record_of_the_same_size(a2p_settings, simulator):
    bulk = make_bulk(numbers(10))
    # Older than ours, and smaller (batchSize may count only the accepted texts): it could be
    # ours, and it comes first in time, but a record of our size is there too.
    smaller = a2p_client.send_batch(A2P, messages(9, start=100))
    simulator.inject_fault("drop", group="Light")  # ours is created, its answer lost
    [batch] = send_all(bulk)
    assert batch.status == Batch.UNCERTAIN
    [same] = [r for r in simulator.a2p_batches() if r["id"] != smaller.id]
    assert same["batchSize"] == 10
    age_attempts(a2p_settings)

    assert a2p_settle_uncertain() == 1
    batch.refresh_from_db()
    assert (batch.status, batch.ringcentral_id, batch.attempts) == (
        Batch.ACCEPTED,
        same["id"],
        1,
    )
    assert simulator.counters()["a2p_batches"] == 2  # nothing sent again


@pytest.mark.django_db
@pytest.mark.parametrize("died", ["before-the-request", "after-ringcentral-made-it"])
def test_a_batch_left_sending_by_a_dead_process_is_looked_up(a2p_settings, simulator, died):
    bulk = make_bulk(numbers(4))
    if died == "before-the-request":
        # Claimed, then the process died before the request left: RingCentral has nothing.
        claim = a2p._claim_next(bulk)
        assert claim is not None
        batch, _ = claim
    else:
        # RingCentral made the batch; the process died before it recorded anything.
        simulator.inject_fault("drop", group="Light")
        [batch] = send_all(bulk)
        A2PBatch.objects.filter(pk=batch.pk).update(status=Batch.SENDING, attempt_ended_at=None)
    other = make_bulk(numbers(3, start=100))
    assert a2p_send_next_batch(bulk=other) is None  # the sender is busy
    A2PBatch.objects.filter(pk=batch.pk).update(
        attempt_started_at=timezone.now() - timedelta(hours=1)
    )

    assert a2p_settle_uncertain() == 0  # now UNCERTAIN, settled from now on
    batch.refresh_from_db()
    assert batch.status == Batch.UNCERTAIN
    age_attempts(a2p_settings)
    assert a2p_settle_uncertain() == 1

    batch.refresh_from_db()
    [record] = simulator.a2p_batches()
    # Sent once either way: again only when RingCentral's list lacked it.
    assert (batch.status, batch.ringcentral_id, batch.attempts) == (
        Batch.ACCEPTED,
        record["id"],
        2 if died == "before-the-request" else 1,
    )
    assert statuses(bulk) == {Row.QUEUED: 4}
    counters = simulator.counters()
    assert (counters["a2p_batches"], counters["a2p_duplicates"]) == (1, 0)


@pytest.mark.django_db
def test_an_uncertain_batch_unconfirmable_for_a_day_fails(a2p_settings, simulator):
    bulk = make_bulk(numbers(2))
    simulator.inject_fault("drop", group="Light")
    [batch] = send_all(bulk)
    assert batch.status == Batch.UNCERTAIN
    simulator.inject_fault("error", group="Light", status=500, count=2)  # both lookups below

    age_attempts(a2p_settings, seconds=3600)
    assert a2p_settle_uncertain() == 0
    batch.refresh_from_db()
    assert batch.status == Batch.UNCERTAIN
    age_attempts(a2p_settings, seconds=86400 + 60)
    assert a2p_settle_uncertain() == 1

    batch.refresh_from_db()
    assert batch.status == Batch.FAILED
    assert batch.error.startswith(a2p.NOT_CONFIRMED_CODE)
    assert statuses(bulk) == {Row.FAILED: 2}
    counters = simulator.counters()
    assert counters["faults"]["error"] == 2  # both lookups were made, and refused
    assert (counters["a2p_batches"], counters["a2p_duplicates"]) == (1, 0)  # never sent again
