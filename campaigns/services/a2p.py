"""RingCentral's high-volume (A2P) batches, exactly once: claim, send, settle, poll.

The rules and their reasons are in docs/a2p.md; in short:
- rows are claimed into a batch in one short transaction (locked rows skipped, the claim an
  UPDATE conditional on PENDING), so no row can be in two batches;
- one batch request per sender number is in flight (SENDING or UNCERTAIN) at a time, decided
  under a PostgreSQL advisory lock for that number, so a batch whose answer was lost can be
  recognised in RingCentral's list without doubt;
- the request goes out outside any transaction; its outcome is recorded in a short one, only if
  the attempt is still the batch's (status and `attempts` unchanged);
- a lost answer is never resent blindly: the batch list is read first, and the rows go out
  again only when the list still lacks the batch SMS_UNCERTAIN_SETTLE_SECONDS later;
- statuses are read from a2p-sms/messages?batchId= with backoff, for at most a day.

Every change of A2PBatch.status and of an A2P row's status happens here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from campaigns import a2p_client
from campaigns.a2p_client import BatchAnswer
from campaigns.models import A2PBatch, BulkRecipient, BulkSend
from smsapp import delivery_codes
from smsapp.backends.base import (
    AuthWaitSmsError,
    ConfigurationSmsError,
    OnFailure,
    RateLimitedSmsError,
    SmsError,
)
from smsapp.phones import same_number, to_e164
from smsapp.services.optouts import opted_out_numbers
from smsapp.timing import stale_sending_after, uncertain_settle

Row = BulkRecipient.Status
Batch = A2PBatch.Status
logger = logging.getLogger(__name__)

# The lookup window around an attempt: clocks (ours, RingCentral's) differ by seconds, and a
# batch created in the attempt must never fall outside it (the single-text search's margin).
LOOKUP_MARGIN = timedelta(minutes=2)
# Status polling: first look 5 s after acceptance, then each look about twice as late as the
# one before (the interval is the batch's age since acceptance), at most every 5 minutes.
FIRST_POLL = timedelta(seconds=5)
MAX_POLL_INTERVAL = timedelta(minutes=5)
# Carriers report within minutes when they report at all; a day covers slow ones and bounds the
# polling, as for single texts (smsapp/services/delivery.py).
POLL_FOR = timedelta(days=1)
# A batch whose answer stays unknown this long (every lookup failed) is given up as "could not
# confirm", so one sender is not blocked for ever.
GIVE_UP_UNCERTAIN_AFTER = timedelta(days=1)
# Batches read per polling run; the limiter bounds the requests anyway.
BATCHES_PER_POLL_RUN = 20
# Advisory-lock namespace for "one batch in flight per sender" (any int4 unique in the project).
SENDER_LOCK_NAMESPACE = 0x41325053  # "A2PS"

OPTED_OUT_REASON = "opted out (texted STOP) before it was sent"
FINAL_ROWS = (Row.DELIVERED, Row.FAILED, Row.REJECTED, Row.CANCELED)
OPEN_ROWS = (Row.QUEUED, Row.SENT)
# Codes we record ourselves where RingCentral gave none (docs/a2p.md#when-polling-ends).
NOT_LISTED_CODE = "A2P-NOT-LISTED"
STILL_QUEUED_CODE = "A2P-STILL-QUEUED"
NOT_CONFIRMED_CODE = "A2P-NOT-CONFIRMED"
NOT_LISTED_REJECTED = (
    "Refused by RingCentral: the batch it was sent in does not include it. RingCentral's "
    "answer naming why was lost; often an invalid number. Nothing was sent to it."
)
NOT_LISTED_FAILED = (
    "RingCentral never listed it in its batch within a day, so it was probably not sent."
)
STILL_QUEUED_FAILED = (
    "RingCentral still had it queued a day after the batch was accepted: probably never sent."
)
NOT_CONFIRMED_FAILED = (
    "Could not confirm with RingCentral whether this batch was sent (its answer was lost and "
    "its batch list could not be read for a day). It may have gone out; check before resending."
)
MAX_REASON = BulkRecipient._meta.get_field("skip_reason").max_length or 200


# -- sending the next batch ----------------------------------------------------------------------


def a2p_send_next_batch(*, bulk: BulkSend) -> A2PBatch | None:
    """Claim the next PENDING rows of a RUNNING A2P bulk send (by line, up to
    SMS_A2P_BATCH_SIZE) into a new batch and send it.

    Returns the batch: ACCEPTED (rows QUEUED, refused ones REJECTED), UNCERTAIN (no answer:
    a2p_settle_uncertain looks it up), or FAILED (RingCentral refused the request itself;
    `batch.error` starts with its code, the rows are FAILED: the caller pauses the bulk).
    Returns None when nothing was sent: no PENDING rows, the bulk no longer running, another
    batch of this sender in flight, or the request certainly not processed (rate limit, 503,
    login or settings problem: the rows are PENDING again and the batch row is deleted)."""
    claim = _claim_next(bulk)
    if claim is None:
        return None
    batch, rows = claim
    return _send(batch, rows)


def _claim_next(bulk: BulkSend) -> tuple[A2PBatch, list[BulkRecipient]] | None:
    size = settings.SMS_A2P_BATCH_SIZE
    with transaction.atomic():
        # The bulk row is locked (no key: FK inserts of its rows go on) so a pause or cancel
        # waits for this short claim, and a claim after it sees it.
        running = (
            BulkSend.objects.select_for_update(no_key=True)
            .filter(pk=bulk.pk, status=BulkSend.Status.RUNNING, via=BulkSend.Via.A2P)
            .first()
        )
        if running is None:
            return None
        from_number = running.from_number
        _lock_sender(from_number)
        if _in_flight(from_number).exists():
            return None  # one request per sender: an uncertain one must stay recognisable
        while True:
            rows = list(
                BulkRecipient.objects.select_for_update(skip_locked=True)
                .filter(bulk=running, status=Row.PENDING)
                .order_by("line")
                .only("pk", "line", "number", "text")[:size]
            )
            if not rows:
                return None
            rows = _without_opted_out(from_number, rows)
            if rows:
                break
        now = timezone.now()
        batch = A2PBatch.objects.create(
            bulk=running,
            from_number=from_number,
            status=Batch.SENDING,
            size=len(rows),
            attempts=1,
            attempt_started_at=now,
        )
        claimed = BulkRecipient.objects.filter(
            pk__in=[r.pk for r in rows], status=Row.PENDING
        ).update(status=Row.BATCHED, batch=batch, updated_at=now)
        if claimed != len(rows):
            # Cannot happen while the rows are locked; if it ever did, sending would put a
            # row in two batches: undo the whole claim instead.
            raise RuntimeError(f"claimed {claimed} of {len(rows)} rows for A2P batch {batch.pk}")
    return batch, rows


def _lock_sender(from_number: str) -> None:
    """Serialise "is a batch of this sender in flight?" and the batch's creation, fleet-wide,
    until the transaction ends (a check-then-insert without it lets two feeders both pass)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [SENDER_LOCK_NAMESPACE, from_number]
        )


def _in_flight(from_number: str) -> Any:
    return A2PBatch.objects.filter(
        from_number=from_number, status__in=(Batch.SENDING, Batch.UNCERTAIN)
    )


def _without_opted_out(from_number: str, rows: list[BulkRecipient]) -> list[BulkRecipient]:
    """Rows whose number opted out since the preview become CANCELED (out of any batch); the
    others are returned in order."""
    refused = set(opted_out_numbers(our_number=from_number, numbers=[r.number for r in rows]))
    if not refused:
        return rows
    gone = [r.pk for r in rows if r.number in refused]
    BulkRecipient.objects.filter(pk__in=gone).update(
        status=Row.CANCELED, skip_reason=OPTED_OUT_REASON, batch=None, updated_at=timezone.now()
    )
    logger.info("A2P: %d numbers opted out since the preview, canceled", len(gone))
    return [r for r in rows if r.number not in refused]


def _send(batch: A2PBatch, rows: list[BulkRecipient]) -> A2PBatch | None:
    """One attempt of `batch` with `rows` in this order (the order `rejected` indexes refer
    to), outside any transaction; then its outcome, recorded in a short one."""
    attempt = batch.attempts
    try:
        answer = a2p_client.send_batch(batch.from_number, [(r.number, r.text) for r in rows])
    except SmsError as error:
        if error.on_failure is OnFailure.FAIL:
            return _record_refused(batch, attempt, error)
        if error.on_failure in (OnFailure.RETRY, OnFailure.WAIT, OnFailure.HOLD):
            return _release(batch, attempt, error)
        # UNCERTAIN, and anything an error class may say in future: looking it up costs a
        # list read, guessing "not sent" could text thousands twice.
        return _record_uncertain(batch, attempt, error)
    return _record_accepted(batch, attempt, rows, answer)


def _attempt_of(batch: A2PBatch, attempt: int, *statuses: str) -> A2PBatch | None:
    """The batch, locked, if it is still in this attempt (nobody settled or resent it)."""
    return (
        A2PBatch.objects.select_for_update()
        .filter(pk=batch.pk, attempts=attempt, status__in=statuses)
        .first()
    )


def _record_accepted(
    batch: A2PBatch, attempt: int, rows: list[BulkRecipient], answer: BatchAnswer
) -> A2PBatch:
    now = timezone.now()
    rejected = _rejected_rows(batch, rows, answer)
    with transaction.atomic():
        # UNCERTAIN too: the answer of this very attempt is the truth even if a backstop gave
        # up on it meanwhile (it cannot, by the timing rules, but the answer wins).
        current = _attempt_of(batch, attempt, Batch.SENDING, Batch.UNCERTAIN)
        if current is None:
            logger.warning("A2P batch %s: answer for a superseded attempt %s", batch.pk, attempt)
            batch.refresh_from_db()
            return batch
        current.status = Batch.ACCEPTED
        current.ringcentral_id = answer.id
        current.attempt_ended_at = now
        # Every row refused: there is nothing to poll.
        current.polls_done = len(rejected) == len(rows)
        current.next_poll_at = None if current.polls_done else now + FIRST_POLL
        current.error = f"{len(rejected)} refused by RingCentral" if rejected else ""
        current.save(
            update_fields=[
                "status",
                "ringcentral_id",
                "attempt_ended_at",
                "polls_done",
                "next_poll_at",
                "error",
            ]
        )
        for row, code, reason in rejected:
            row.status, row.error_code, row.skip_reason = Row.REJECTED, code, reason
            row.updated_at = now
        BulkRecipient.objects.bulk_update(
            [row for row, _, _ in rejected], ["status", "error_code", "skip_reason", "updated_at"]
        )
        BulkRecipient.objects.filter(batch=current, status=Row.BATCHED).update(
            status=Row.QUEUED, updated_at=now
        )
    logger.info(
        "A2P batch %s accepted as %s: %d texts, %d refused",
        current.pk,
        answer.id,
        len(rows),
        len(rejected),
    )
    return current


def _rejected_rows(
    batch: A2PBatch, rows: list[BulkRecipient], answer: BatchAnswer
) -> list[tuple[BulkRecipient, str, str]]:
    """(row, code, reason) for each entry of `rejected`: its 1-based index into the messages
    we sent, checked against the number it names (if the two disagree, the number decides,
    since numbers are unique in a batch)."""
    found: dict[int, tuple[BulkRecipient, str, str]] = {}
    for rejection in answer.rejected:
        row = rows[rejection.index - 1] if 1 <= rejection.index <= len(rows) else None
        if rejection.to and (row is None or not _names(row, rejection.to)):
            matches = [r for r in rows if _names(r, rejection.to)]
            row = matches[0] if len(matches) == 1 else row
        if row is None:
            logger.warning("A2P batch %s: rejection %r matches no row", batch.pk, rejection)
            continue
        code = rejection.code or "REJECTED"
        found[row.pk] = (row, code, _rejection_reason(code, rejection.description))
    return list(found.values())


def _names(row: BulkRecipient, numbers: Iterable[str]) -> bool:
    return any(same_number(n, row.number) for n in numbers)


def _rejection_reason(code: str, description: str) -> str:
    said = description.strip().rstrip(".") or "no reason given"
    return _short(f"Refused by RingCentral ({code}): {said}. Nothing was sent to this number.")


def _record_uncertain(batch: A2PBatch, attempt: int, error: SmsError) -> A2PBatch:
    with transaction.atomic():
        current = _attempt_of(batch, attempt, Batch.SENDING)
        if current is None:
            batch.refresh_from_db()
            return batch
        current.status = Batch.UNCERTAIN
        current.attempt_ended_at = timezone.now()
        current.error = f"{error.code + ': ' if error.code else ''}{error.reason}"
        current.save(update_fields=["status", "attempt_ended_at", "error"])
    logger.warning("A2P batch %s uncertain: %s", current.pk, error.reason)
    return current


def _record_refused(batch: A2PBatch, attempt: int, error: SmsError) -> A2PBatch:
    now = timezone.now()
    with transaction.atomic():
        current = _attempt_of(batch, attempt, Batch.SENDING)
        if current is None:
            batch.refresh_from_db()
            return batch
        current.status = Batch.FAILED
        current.attempt_ended_at = now
        current.polls_done = True
        # The code first: the feeder and admins read what RingCentral said at a glance.
        current.error = f"{error.code}: {error.reason}" if error.code else error.reason
        current.save(update_fields=["status", "attempt_ended_at", "polls_done", "error"])
        BulkRecipient.objects.filter(batch=current, status=Row.BATCHED).update(
            status=Row.FAILED,
            error_code=error.code,
            skip_reason=_short(error.reason),
            updated_at=now,
        )
    logger.warning("A2P batch %s refused: %s", current.pk, current.error)
    return current


def _release(batch: A2PBatch, attempt: int, error: SmsError) -> None:
    """Certainly not processed: the rows wait again as PENDING and the batch row is deleted,
    so nothing polls or settles it and the sender is free for the next try."""
    with transaction.atomic():
        current = _attempt_of(batch, attempt, Batch.SENDING)
        if current is None:
            return None
        BulkRecipient.objects.filter(batch=current, status=Row.BATCHED).update(
            status=Row.PENDING, batch=None, updated_at=timezone.now()
        )
        current.delete()
    logger.info("A2P batch for bulk %s not sent, rows wait again: %s", batch.bulk_id, error.reason)
    return None


# -- settling uncertain batches ------------------------------------------------------------------


def a2p_settle_uncertain() -> int:
    """Settle UNCERTAIN batches whose attempt ended SMS_UNCERTAIN_SETTLE_SECONDS ago or more:
    adopt the batch RingCentral lists for it, or send the same rows again when it lists none.
    A batch left SENDING by a dead process (older than the slowest possible attempt) becomes
    UNCERTAIN first. Returns the batches settled (adopted, sent again, or given up)."""
    _abandoned_to_uncertain()
    due = list(
        A2PBatch.objects.filter(
            status=Batch.UNCERTAIN, attempt_ended_at__lte=timezone.now() - uncertain_settle()
        ).order_by("attempt_ended_at", "id")
    )
    settled = 0
    for batch in due:
        try:
            settled += _settle(batch)
        except (RateLimitedSmsError, AuthWaitSmsError, ConfigurationSmsError) as error:
            # The next batch would meet the same wall: try them all on the next run.
            logger.info("A2P settle stopped: %s", error.reason)
            break
    return settled


def _abandoned_to_uncertain() -> None:
    """A SENDING batch older than the slowest possible attempt has no live sender (its process
    died between the claim and the outcome): whether its request left is unknown."""
    now = timezone.now()
    for batch in A2PBatch.objects.filter(
        status=Batch.SENDING, attempt_started_at__lte=now - stale_sending_after()
    ):
        A2PBatch.objects.filter(pk=batch.pk, status=Batch.SENDING, attempts=batch.attempts).update(
            status=Batch.UNCERTAIN,
            attempt_ended_at=now,
            error="the process sending it stopped before recording an answer",
        )


def _settle(batch: A2PBatch) -> int:
    attempt = batch.attempts
    started = batch.attempt_started_at or batch.created_at
    ended = batch.attempt_ended_at or timezone.now()
    try:
        records = a2p_client.list_batches(started - LOOKUP_MARGIN)
    except (RateLimitedSmsError, AuthWaitSmsError, ConfigurationSmsError):
        raise  # every other batch would meet the same wall: the caller ends the run
    except SmsError as error:
        # Never proof of absence: the batch stays UNCERTAIN for the next run.
        logger.warning("A2P batch %s: lookup failed, stays uncertain: %s", batch.pk, error.reason)
        return _give_up_if_too_old(batch, attempt)
    record = _find_record(
        batch, records, since=started - LOOKUP_MARGIN, until=ended + LOOKUP_MARGIN
    )
    if record is not None:
        return _adopt(batch, attempt, record)
    return _resend(batch, attempt)


def _find_record(
    batch: A2PBatch, records: Sequence[dict[str, Any]], *, since: datetime, until: datetime
) -> dict[str, Any] | None:
    """The record that is this batch: from our sender, created during the attempt, not
    another batch's, and no larger than ours. `batchSize` may count only the messages
    RingCentral accepted ("Total number of messages in the accepted batch"; the refused ones
    come only in the lost answer), so a smaller one can be ours; an equal one is preferred."""
    ids = [str(r.get("id")) for r in records if r.get("id")]
    taken = set(
        A2PBatch.objects.filter(ringcentral_id__in=ids)
        .exclude(pk=batch.pk)
        .values_list("ringcentral_id", flat=True)
    )
    candidates = []
    for record in records:
        size = record.get("batchSize")
        created = a2p_client.parse_time(record.get("creationTime"))
        if not record.get("id") or str(record["id"]) in taken:
            continue
        if not same_number(str(record.get("from") or ""), batch.from_number):
            continue
        # An unreadable time counts as inside: leaving out a batch that may be ours would
        # send it again.
        if created is not None and not since <= created <= until:
            continue
        # batchSize 0: nothing of it went out, so sending again cannot text anyone twice and
        # brings back the refusals with their codes.
        if not isinstance(size, int) or not 0 < size <= batch.size:
            continue
        candidates.append(record)
    if len(candidates) > 1:
        logger.warning(
            "A2P batch %s: %d batches in its window could be it; taking the closest",
            batch.pk,
            len(candidates),
        )
    candidates.sort(key=lambda r: (r["batchSize"] != batch.size, str(r.get("creationTime"))))
    return candidates[0] if candidates else None


def _adopt(batch: A2PBatch, attempt: int, record: dict[str, Any]) -> int:
    now = timezone.now()
    ringcentral_id = str(record["id"])
    with transaction.atomic():
        _lock_sender(batch.from_number)
        current = _attempt_of(batch, attempt, Batch.UNCERTAIN)
        if current is None:
            return 0
        if A2PBatch.objects.filter(ringcentral_id=ringcentral_id).exclude(pk=batch.pk).exists():
            return 0  # another batch took it meanwhile: look again next run
        current.status = Batch.ACCEPTED
        current.ringcentral_id = ringcentral_id
        current.next_poll_at = now
        # Refusals came only in the lost answer: rows RingCentral never lists are decided when
        # polling ends (docs/a2p.md#when-polling-ends).
        current.error = (
            f"found in RingCentral's batch list after the answer was lost "
            f"({record.get('batchSize')} of {current.size} listed as accepted)"
        )
        current.save(update_fields=["status", "ringcentral_id", "next_poll_at", "error"])
        BulkRecipient.objects.filter(batch=current, status=Row.BATCHED).update(
            status=Row.QUEUED, updated_at=now
        )
    logger.info("A2P batch %s found in RingCentral's list as %s", batch.pk, ringcentral_id)
    return 1


def _resend(batch: A2PBatch, attempt: int) -> int:
    """RingCentral's list lacks the batch a settle time after the attempt: the same rows go
    out again as the next attempt, still the sender's one request in flight."""
    with transaction.atomic():
        _lock_sender(batch.from_number)
        current = _attempt_of(batch, attempt, Batch.UNCERTAIN)
        if current is None:
            return 0  # another run settled it
        if _in_flight(current.from_number).exclude(pk=current.pk).exists():
            return 0  # cannot happen under the one-in-flight rule; never break it
        rows = list(
            BulkRecipient.objects.select_for_update()
            .filter(batch=current, status=Row.BATCHED)
            .order_by("line")
            .only("pk", "line", "number", "text")
        )
        rows = _without_opted_out(current.from_number, rows)
        if not rows:
            current.delete()  # everyone in it opted out meanwhile: nothing to send
            return 1
        current.status = Batch.SENDING
        current.attempts = attempt + 1
        current.attempt_started_at = timezone.now()
        current.attempt_ended_at = None
        current.size = len(rows)
        current.error = ""
        current.save(
            update_fields=[
                "status",
                "attempts",
                "attempt_started_at",
                "attempt_ended_at",
                "size",
                "error",
            ]
        )
    logger.warning("A2P batch %s not in RingCentral's list: sending it again", current.pk)
    _send(current, rows)
    return 1


def _give_up_if_too_old(batch: A2PBatch, attempt: int) -> int:
    if (batch.attempt_ended_at or batch.created_at) > timezone.now() - GIVE_UP_UNCERTAIN_AFTER:
        return 0
    now = timezone.now()
    with transaction.atomic():
        current = _attempt_of(batch, attempt, Batch.UNCERTAIN)
        if current is None:
            return 0
        current.status = Batch.FAILED
        current.polls_done = True
        current.error = f"{NOT_CONFIRMED_CODE}: {NOT_CONFIRMED_FAILED}"
        current.save(update_fields=["status", "polls_done", "error"])
        BulkRecipient.objects.filter(batch=current, status=Row.BATCHED).update(
            status=Row.FAILED,
            error_code=NOT_CONFIRMED_CODE,
            skip_reason=_short(NOT_CONFIRMED_FAILED),
            updated_at=now,
        )
    return 1


# -- polling statuses ----------------------------------------------------------------------------


def a2p_poll_statuses() -> int:
    """Read the message statuses of ACCEPTED batches that are due, every page, and apply them
    to their rows. Returns the rows whose status changed."""
    now = timezone.now()
    due = list(
        A2PBatch.objects.filter(status=Batch.ACCEPTED, polls_done=False)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .order_by(F("next_poll_at").asc(nulls_first=True), "id")[:BATCHES_PER_POLL_RUN]
    )
    changed = 0
    for batch in due:
        since = (batch.attempt_started_at or batch.created_at) - LOOKUP_MARGIN
        try:
            records = a2p_client.list_batch_messages(batch.ringcentral_id, since)
        except (RateLimitedSmsError, AuthWaitSmsError, ConfigurationSmsError) as error:
            logger.info("A2P polling stopped: %s", error.reason)
            break  # the rest is due again on the next run
        except SmsError as error:
            logger.warning("A2P batch %s: statuses unreadable: %s", batch.pk, error.reason)
            changed += _poll_later(batch, records=None)
            continue
        changed += _poll_later(batch, records=records)
    return changed


def _poll_later(batch: A2PBatch, *, records: list[dict[str, Any]] | None) -> int:
    """Apply `records` (None: unreadable this time), then end the polling or schedule the
    next look."""
    now = timezone.now()
    rows = list(
        BulkRecipient.objects.filter(batch=batch)
        .exclude(status=Row.CANCELED)
        .only("pk", "number", "status", "error_code", "ringcentral_id", "skip_reason")
    )
    by_number = {row.number: row for row in rows}
    was = {row.pk: row.status for row in rows}
    updates: dict[int, BulkRecipient] = {}
    listed: set[int] = set()
    for record in records or []:
        row = _row_for(record, by_number, batch.from_number)
        if row is None:
            continue
        listed.add(row.pk)
        if row.status in OPEN_ROWS and _apply(row, record):
            updates[row.pk] = row
    expired = now >= batch.created_at + POLL_FOR
    open_rows = [r for r in rows if r.status in OPEN_ROWS]
    unlisted = [r for r in open_rows if r.pk not in listed]
    if records is not None and unlisted and not expired and _listing_complete(batch, records):
        # RingCentral lists the whole batch and these are not in it: refused when the batch
        # was made (an adopted batch never saw its refusals).
        for row in unlisted:
            _end(row, Row.REJECTED, NOT_LISTED_CODE, NOT_LISTED_REJECTED)
            updates[row.pk] = row
        open_rows = [r for r in rows if r.status in OPEN_ROWS]
    if expired:
        for row in open_rows:
            _expire(row, listed=row.pk in listed)
            updates[row.pk] = row
        open_rows = []
    done = not open_rows
    with transaction.atomic():
        current = (
            A2PBatch.objects.select_for_update()
            .filter(pk=batch.pk, status=Batch.ACCEPTED, polls_done=False)
            .first()
        )
        if current is None:
            return 0
        for row in updates.values():
            row.updated_at = now
        BulkRecipient.objects.bulk_update(
            list(updates.values()),
            ["status", "error_code", "ringcentral_id", "skip_reason", "updated_at"],
        )
        current.polls_done = done
        current.next_poll_at = None if done else now + _poll_interval(current, now)
        current.save(update_fields=["polls_done", "next_poll_at"])
    return sum(1 for row in updates.values() if row.status != was[row.pk])


def _row_for(
    record: dict[str, Any], by_number: dict[str, BulkRecipient], from_number: str
) -> BulkRecipient | None:
    """The row a record is for, by its recipient compared as a parsed number (records write
    numbers "usually" in E.164; numbers are unique within a batch)."""
    for number in a2p_client.record_numbers(record):
        if number in by_number:
            return by_number[number]
        digits = "".join(c for c in number if c.isdigit())
        for candidate in ("+" + digits, to_e164(number, _region(from_number)) or ""):
            row = by_number.get(candidate)
            if row is not None and same_number(number, row.number):
                return row
    return None


def _region(e164: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or "US"
    except phonenumbers.NumberParseException:
        return "US"


def _apply(row: BulkRecipient, record: dict[str, Any]) -> bool:
    """Set the row from its record; True when anything changed."""
    before = (row.status, row.error_code, row.ringcentral_id, row.skip_reason)
    status = record.get("messageStatus")
    code = str(record.get("errorCode") or "")
    if record.get("id") is not None:
        row.ringcentral_id = str(record["id"])
    if status == "Queued":
        row.status = Row.QUEUED
    elif status == "Sent":
        row.status = Row.SENT
    elif status == "Delivered":
        row.status, row.error_code, row.skip_reason = Row.DELIVERED, "", ""
    elif status in ("SendingFailed", "DeliveryFailed"):
        entry = delivery_codes.lookup(code or status)
        if entry.outcome is delivery_codes.Outcome.LOOK_AGAIN:
            # "Not reported yet": not an outcome; keep looking until the day is over.
            row.status, row.error_code = Row.SENT, entry.code
        else:
            row.status, row.error_code = Row.FAILED, code or status
            row.skip_reason = _short(entry.reason)
    # Any other status (a new one RingCentral adds) leaves the row as it was.
    return (row.status, row.error_code, row.ringcentral_id, row.skip_reason) != before


def _end(row: BulkRecipient, status: str, code: str, reason: str) -> None:
    row.status, row.error_code, row.skip_reason = status, code, _short(reason)


def _expire(row: BulkRecipient, *, listed: bool) -> None:
    """A day after creation, what a row still open becomes (docs/a2p.md#when-polling-ends)."""
    if row.status == Row.SENT:
        # Sent, no receipt: stays SENT, as single texts do, with the reason saying so.
        row.error_code = row.error_code or delivery_codes.NO_RECEIPT_CODE
        row.skip_reason = _short(delivery_codes.NO_RECEIPT)
    elif listed:
        _end(row, Row.FAILED, STILL_QUEUED_CODE, STILL_QUEUED_FAILED)
    else:
        _end(row, Row.FAILED, NOT_LISTED_CODE, NOT_LISTED_FAILED)


def _listing_complete(batch: A2PBatch, records: list[dict[str, Any]]) -> bool:
    """Whether the messages list holds the whole batch: RingCentral says it is Completed and
    lists at least batchSize messages. One extra read, only when rows are missing."""
    try:
        record = a2p_client.get_batch(batch.ringcentral_id)
    except SmsError:
        return False  # decided on a later look
    size = record.get("batchSize")
    return record.get("status") == "Completed" and isinstance(size, int) and len(records) >= size


def _poll_interval(batch: A2PBatch, now: datetime) -> timedelta:
    """The batch's age since acceptance, within FIRST_POLL..MAX_POLL_INTERVAL: each look
    comes about twice as long after acceptance as the one before."""
    age = now - (batch.attempt_ended_at or batch.created_at)
    return max(FIRST_POLL, min(MAX_POLL_INTERVAL, age))


def _short(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
