"""Bulk sends: made from an uploaded CSV, confirmed, paused, resumed, canceled. Feeding them to
RingCentral is services/feed.py."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import IO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.csv_rows import CsvFile, CsvRow
from campaigns.models import BulkRecipient, BulkSend, Template
from campaigns.placeholders import PlaceholderError, column_key, render, unknown_placeholders
from smsapp.phones import to_e164
from smsapp.segments import MAX_TEXT_UNITS, segment_count, utf16_units
from smsapp.services.messages import messages_cancel_unsent
from smsapp.services.optouts import opted_out_numbers
from smsapp.validation import validate_send_at

Row = BulkRecipient.Status
# Rows written to the database at once while reading: memory stays flat however long the file.
WRITE_EVERY = 1000


def bulk_via() -> tuple[str, str]:
    """(how, from which number) a bulk send goes out now: RingCentral's high-volume batches
    from SMS_A2P_FROM_NUMBER when one is set, else the standard pipeline from SMS_FROM_NUMBER."""
    if settings.SMS_A2P_FROM_NUMBER:
        return BulkSend.Via.A2P, settings.SMS_A2P_FROM_NUMBER
    return BulkSend.Via.PIPELINE, settings.SMS_FROM_NUMBER


def bulk_create_from_csv(
    *,
    file: IO[bytes],
    file_name: str,
    text: str,
    created_by: AbstractBaseUser | None,
    phone_column: str = "",
    template: Template | None = None,
) -> BulkSend:
    """A draft bulk send with one row per line: the E.164 number and the words it gets, or why
    that line will not be sent (not a number, a repeat, opted out, a placeholder empty, too
    long). All or nothing: a file that cannot be read, or over SMS_MAX_BULK_RECIPIENTS lines,
    leaves no trace. ValidationErrors are keyed by the form field they are about ("file",
    "text", "phone_column")."""
    try:
        csv_file = CsvFile(file)
    except ValidationError as error:
        raise ValidationError({"file": error.error_list}) from None
    problems = _text_problems(text, csv_file.columns)
    if problems:
        raise ValidationError({"text": problems})
    try:
        column = csv_file.phone_column(phone_column)
    except ValidationError as error:
        raise ValidationError({"phone_column": error.error_list}) from None
    via, from_number = bulk_via()
    with transaction.atomic():
        bulk = BulkSend.objects.create(
            created_by=created_by,
            file_name=file_name[:255],
            text=text,
            template=template,
            columns=csv_file.columns,
            phone_column=column,
            via=via,
            from_number=from_number,
        )
        try:
            _write_rows(bulk, csv_file.rows())
        except ValidationError as error:
            raise ValidationError({"file": error.error_list}) from None
    return bulk


def _text_problems(text: str, columns: list[str]) -> list[str]:
    if not text.strip():
        return ["Write the text to send (it may use the file's columns, e.g. {first_name})."]
    try:
        unknown = unknown_placeholders(text, columns)
    except PlaceholderError as error:
        return [f"The text has {error}."]
    if unknown:
        keys = ", ".join("{" + column_key(c) + "}" for c in columns)
        named = ", ".join("{" + n + "}" for n in unknown)
        return [f"The file has no column for {named}. Its columns: {keys}."]
    return []


def _write_rows(bulk: BulkSend, rows: Iterable[CsvRow]) -> None:
    limit = settings.SMS_MAX_BULK_RECIPIENTS
    region = settings.SMS_DEFAULT_REGION
    first_line: dict[str, int] = {}  # number -> the line that has it first
    pending: list[BulkRecipient] = []
    totals = {"row_count": 0, "valid_count": 0, "segment_count": 0}

    def flush() -> None:
        refused = set(
            opted_out_numbers(
                our_number=bulk.from_number,
                numbers=[r.number for r in pending if r.status == Row.PENDING],
            )
        )
        for row in pending:
            if row.number in refused and row.status == Row.PENDING:
                row.status, row.skip_reason = Row.SKIPPED, "opted out (texted STOP)"
            if row.status == Row.PENDING:
                totals["valid_count"] += 1
                totals["segment_count"] += row.segments
        BulkRecipient.objects.bulk_create(pending)
        pending.clear()

    for row in rows:
        totals["row_count"] += 1
        if totals["row_count"] > limit:
            raise ValidationError(
                f"The file has more than {limit:,} lines (SMS_MAX_BULK_RECIPIENTS): split it."
            )
        pending.append(_recipient(bulk, row, region, first_line))
        if len(pending) >= WRITE_EVERY:
            flush()
    flush()
    if totals["row_count"] == 0:
        raise ValidationError("The file has a header but no lines to send to.")
    BulkSend.objects.filter(pk=bulk.pk).update(**totals)
    for name, value in totals.items():
        setattr(bulk, name, value)


def _recipient(
    bulk: BulkSend, row: CsvRow, region: str, first_line: dict[str, int]
) -> BulkRecipient:
    raw = row.values.get(bulk.phone_column, "")
    values = {column_key(c): v for c, v in row.values.items()}
    text, empty = render(bulk.text, values)
    number = to_e164(raw, region) if raw else None
    recipient = BulkRecipient(
        bulk=bulk,
        line=row.line,
        raw_number=raw[:100],
        number=number or "",
        fields=row.values,
        text=text,
        segments=segment_count(text),
        status=Row.PENDING,
    )
    reason = ""
    if not raw:
        reason = "no phone number"
    elif number is None:
        reason = f"“{raw[:40]}” is not a phone number"
    elif number in first_line:
        reason = f"the same number as line {first_line[number]}"
    elif empty:
        reason = f"empty {', '.join('{' + e + '}' for e in empty)}"
    elif utf16_units(text) > MAX_TEXT_UNITS:
        reason = f"the text is too long ({utf16_units(text)} of {MAX_TEXT_UNITS} units)"
    if number and number not in first_line:
        first_line[number] = row.line
    if reason:
        recipient.status, recipient.skip_reason = Row.SKIPPED, reason
    return recipient


def bulk_confirm(*, bulk: BulkSend, send_at: datetime | None = None) -> bool:
    """Start it (or schedule it): only a draft moves, so a double click starts it once."""
    now = timezone.now()
    if send_at is not None:
        try:
            validate_send_at(send_at, now=now)
        except ValidationError as error:
            raise ValidationError({"send_at": error.error_list}) from None
    later = send_at is not None and send_at > now
    return bool(
        BulkSend.objects.filter(pk=bulk.pk, status=BulkSend.Status.DRAFT).update(
            status=BulkSend.Status.SCHEDULED if later else BulkSend.Status.RUNNING,
            send_at=send_at if later else None,
            confirmed_at=now,
            updated_at=now,
        )
    )


def bulk_pause(*, bulk: BulkSend) -> bool:
    """Stop handing rows to RingCentral. Texts already in the send queue (at most about a
    minute's worth: services/feed.py keeps no more queued) still go."""
    return _move(bulk, {BulkSend.Status.RUNNING, BulkSend.Status.SCHEDULED}, BulkSend.Status.PAUSED)


def bulk_resume(*, bulk: BulkSend) -> bool:
    return _move(bulk, {BulkSend.Status.PAUSED}, BulkSend.Status.RUNNING)


def bulk_cancel(*, bulk: BulkSend) -> int:
    """Nothing more goes out: waiting rows are canceled, and so are texts of it still in the
    send queue that no worker has claimed. Texts already at RingCentral (sent, or in an A2P
    batch it accepted) cannot be called back. Returns how many rows were canceled."""
    with transaction.atomic():
        live = {
            BulkSend.Status.DRAFT,
            BulkSend.Status.SCHEDULED,
            BulkSend.Status.RUNNING,
            BulkSend.Status.PAUSED,
        }
        if not _move(bulk, live, BulkSend.Status.CANCELED):
            return 0
        waiting = BulkRecipient.objects.filter(bulk=bulk, status=Row.PENDING).update(
            status=Row.CANCELED, skip_reason="canceled before it was sent"
        )
        queued = list(
            BulkRecipient.objects.filter(bulk=bulk, status=Row.MESSAGE).values_list(
                "message_id", flat=True
            )
        )
        stopped = messages_cancel_unsent(
            message_ids=[m for m in queued if m], event=f"Canceled with bulk send #{bulk.pk}"
        )
        BulkSend.objects.filter(pk=bulk.pk).update(finished_at=timezone.now())
    return waiting + len(stopped)


def _move(bulk: BulkSend, from_statuses: set[str], to: str) -> bool:
    moved = BulkSend.objects.filter(pk=bulk.pk, status__in=from_statuses).update(
        status=to, updated_at=timezone.now()
    )
    if moved:
        bulk.status = to
    return bool(moved)


def bulk_change_phone_column(*, bulk: BulkSend, column: str) -> BulkSend:
    """Read the numbers from another column of the same file (a draft only): every line is
    worked out again from the values kept at upload, no new upload needed."""
    if column not in bulk.columns:
        raise ValidationError({"phone_column": f"There is no column “{column}”."})
    with transaction.atomic():
        locked = BulkSend.objects.select_for_update().get(pk=bulk.pk)
        if locked.status != BulkSend.Status.DRAFT:
            raise ValidationError("This bulk send has started: its numbers can no longer change.")
        rows = [
            CsvRow(line, fields)
            for line, fields in BulkRecipient.objects.filter(bulk=locked)
            .order_by("line")
            .values_list("line", "fields")
        ]
        BulkRecipient.objects.filter(bulk=locked).delete()
        locked.phone_column = column
        locked.save(update_fields=["phone_column", "updated_at"])
        _write_rows(locked, rows)
    return locked
