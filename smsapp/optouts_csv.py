"""Opt-outs as CSV: the export staff download, and the import that adds a file's numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import IO

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from smsapp.models import OptOut
from smsapp.services import optouts

EXPORT_COLUMNS = ("their_number", "our_number", "source", "reason", "created_at", "cause")
# Each row is one optout_add (a handful of queries) in one transaction, inside a web request:
# 5,000 take seconds, not minutes. Bigger lists are split into several files.
MAX_IMPORT_ROWS = 5000
# A file of 5,000 bad rows reports the first ones: they show what is wrong with the rest.
MAX_PROBLEMS_SHOWN = 50
MAX_REASON_CHARS = 500
NUMBER_COLUMNS = ("number", "their_number", "phone", "phone_number")
HEADER_RULE = (
    "The first line must name the columns: “number” (or “their_number”, as the export writes "
    "it), and optionally “reason” and “our_number”."
)
# A spreadsheet runs a cell that starts with one of these as a formula ("CSV injection"): free
# text (reasons, the words of inbound texts) is written with a leading apostrophe. Numbers are
# not: "+1650..." must stay a number a re-import reads.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ImportRow:
    line: int
    their_number: str
    our_number: str
    reason: str


@dataclass(frozen=True)
class ImportProblem:
    line: int
    value: str
    problem: str


@dataclass
class ImportFile:
    """A file read and checked: its rows, or what is wrong with it (then nothing is imported)."""

    rows: list[ImportRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    problem_count: int = 0

    def refuse(self, line: int, value: str, problem: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_SHOWN:
            self.problems.append(ImportProblem(line, value[:80], problem))


def export_lines() -> Iterator[str]:
    """The whole list as CSV lines, header first, read from the database in chunks (a
    streaming response sends each as it comes)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(list(EXPORT_COLUMNS))
    for row in OptOut.objects.order_by("id").iterator(chunk_size=2000):
        yield line(
            [
                row.their_number,
                row.our_number,
                row.source,
                _text_cell(row.reason),
                row.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                _text_cell(optouts.optout_cause(row)),
            ]
        )


def read_import(upload: IO[bytes], *, our_number: str, default_reason: str) -> ImportFile:
    """Check every line of an uploaded CSV (UTF-8, a header line), reading it as a stream: a
    big file is never held whole, and reading stops past MAX_IMPORT_ROWS."""
    result = ImportFile()
    text = io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
    reader = csv.reader(_lines(text))
    try:
        header = next(reader, None)
    except csv.Error as error:
        result.refuse(1, "", f"not readable as CSV ({error})")
        return result
    if header is None:
        result.refuse(1, "", "The file is empty. " + HEADER_RULE)
        return result
    names = [name.strip().lower() for name in header]
    number_at = next((names.index(n) for n in NUMBER_COLUMNS if n in names), None)
    if number_at is None:
        result.refuse(1, ",".join(header), HEADER_RULE)
        return result
    reason_at = names.index("reason") if "reason" in names else None
    ours_at = names.index("our_number") if "our_number" in names else None
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines are nobody
            line = reader.line_num
            if len(result.rows) + result.problem_count >= MAX_IMPORT_ROWS:
                result.refuse(
                    line,
                    "",
                    f"more than {MAX_IMPORT_ROWS:,} rows: split the file (nothing was read "
                    "past this line)",
                )
                break
            _check_row(
                result, line, cells, number_at, reason_at, ours_at, our_number, default_reason
            )
    except csv.Error as error:
        result.refuse(reader.line_num, "", f"not readable as CSV ({error})")
    except UnicodeDecodeError:
        result.refuse(reader.line_num + 1, "", "not UTF-8 text: save the file as CSV UTF-8")
    return result


def import_rows(rows: list[ImportRow], *, by: AbstractBaseUser | None) -> tuple[int, int]:
    """Every row through optout_add (source staff), all in one transaction; (opted out now,
    already opted out)."""
    added = 0
    with transaction.atomic():
        for row in rows:
            added += optouts.optout_add(
                our_number=row.our_number,
                their_number=row.their_number,
                source=OptOut.Source.STAFF,
                reason=row.reason,
                by=by,
            )
    return added, len(rows) - added


def _check_row(
    result: ImportFile,
    line: int,
    cells: list[str],
    number_at: int,
    reason_at: int | None,
    ours_at: int | None,
    our_number: str,
    default_reason: str,
) -> None:
    raw = cells[number_at].strip() if number_at < len(cells) else ""
    reason = cells[reason_at].strip() if reason_at is not None and reason_at < len(cells) else ""
    ours = cells[ours_at].strip() if ours_at is not None and ours_at < len(cells) else ""
    if not raw:
        result.refuse(line, "", "no number in the number column")
        return
    try:
        theirs = optouts.their_number_e164(raw)
    except ValidationError as error:
        result.refuse(line, raw, error.messages[0])
        return
    try:
        sender = optouts.our_number_e164(ours) if ours else our_number
    except ValidationError:
        result.refuse(line, ours, "our_number is not a phone number in E.164 or “*”")
        return
    if len(reason) > MAX_REASON_CHARS:
        result.refuse(line, raw, f"the reason is longer than {MAX_REASON_CHARS} characters")
        return
    result.rows.append(ImportRow(line, theirs, sender, reason or default_reason))


def _lines(text: io.TextIOWrapper) -> Iterator[str]:
    # A line without an end (a binary file, one huge field) is cut at 64 KiB: no row may make
    # the request hold the whole file.
    while chunk := text.readline(65536):
        yield chunk


def _text_cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value
