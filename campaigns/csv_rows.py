"""Reading an uploaded CSV a line at a time: the header, the phone column, each row's values."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError

from campaigns.placeholders import column_key
from smsapp.phones import to_e164

# Header names taken for the phone column without asking (compared as column keys).
PHONE_HEADERS = (
    "phone",
    "phone_number",
    "mobile",
    "mobile_number",
    "mobile_phone",
    "cell",
    "cell_phone",
    "cellphone",
    "telephone",
    "tel",
    "number",
    "to",
    "sms",
)
# Rows looked at to find a column of numbers when no header says which.
SNIFF_ROWS = 20
# A cell longer than this is not a name or a date: a wrong file (csv's own limit is 128 KiB).
MAX_CELL = 2000


@dataclass(frozen=True)
class CsvRow:
    line: int  # in the file, the header being line 1
    values: dict[str, str]  # column as written -> value


class CsvFile:
    """One pass over the file: the header first, then rows, never the whole file in memory.
    Excel's UTF-8 (with its byte-order mark) and plain UTF-8 are read; anything else is
    refused with what to do, rather than guessed."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._text, dialect=_dialect(self._text))
        try:
            header = next(self._reader, None)
        except (UnicodeDecodeError, csv.Error) as error:
            raise _unreadable(error) from None
        if not header or not any(cell.strip() for cell in header):
            raise ValidationError("The file is empty: the first line must name the columns.")
        self.columns = [cell.strip() or f"column {n}" for n, cell in enumerate(header, 1)]
        keys = [column_key(c) for c in self.columns]
        if len(set(keys)) != len(keys):
            twice = sorted(
                {c for c, k in zip(self.columns, keys, strict=True) if keys.count(k) > 1}
            )
            raise ValidationError(f"Two columns have the same name: {', '.join(twice)}.")
        self._buffer: list[CsvRow] = []

    def rows(self) -> Iterator[CsvRow]:
        yield from self._buffer
        self._buffer = []
        yield from self._read()

    def _read(self) -> Iterator[CsvRow]:
        try:
            for cells in self._reader:
                if not any(cell.strip() for cell in cells):
                    continue  # blank lines (Excel leaves them at the end)
                if any(len(cell) > MAX_CELL for cell in cells):
                    raise ValidationError(
                        f"Line {self._reader.line_num} has a cell longer than {MAX_CELL} "
                        "characters: is this the right file?"
                    )
                values = {
                    c: (cells[i].strip() if i < len(cells) else "")
                    for i, c in enumerate(self.columns)
                }
                yield CsvRow(self._reader.line_num, values)
        except (UnicodeDecodeError, csv.Error) as error:
            raise _unreadable(error, line=self._reader.line_num + 1) from None

    def phone_column(self, chosen: str = "") -> str:
        """The column the numbers are in: the one chosen, else a header that says so, else
        the first column whose values in the first rows are phone numbers."""
        by_key = {column_key(c): c for c in self.columns}
        if chosen:
            if column_key(chosen) not in by_key:
                raise ValidationError(
                    f"There is no column “{chosen}”: the columns are {_listed(self.columns)}."
                )
            return by_key[column_key(chosen)]
        for name in PHONE_HEADERS:
            if name in by_key:
                return by_key[name]
        reader = self._read()
        for row in reader:
            self._buffer.append(row)
            if len(self._buffer) >= SNIFF_ROWS:
                break
        region = settings.SMS_DEFAULT_REGION
        for column in self.columns:
            values = [row.values[column] for row in self._buffer if row.values[column]]
            if values and sum(1 for v in values if to_e164(v, region)) * 2 > len(values):
                return column
        raise ValidationError(
            "Which column has the phone numbers? None is named like one (phone, mobile, …) and "
            f"none holds numbers. Choose one of {_listed(self.columns)}."
        )


def _dialect(text: io.TextIOWrapper) -> type[csv.Dialect] | str:
    # Commas, or semicolons (Excel in much of Europe), or tabs: read from the first line.
    try:
        first = text.readline()
    except UnicodeDecodeError as error:
        raise _unreadable(error) from None
    text.seek(0)
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get) if any(counts.values()) else ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


def _unreadable(error: Exception, *, line: int | None = None) -> ValidationError:
    where = f" (line {line})" if line else ""
    if isinstance(error, UnicodeDecodeError):
        return ValidationError(
            f"The file is not UTF-8 text{where}. In Excel choose “CSV UTF-8 (Comma delimited)” "
            "when saving; in other programs choose UTF-8."
        )
    return ValidationError(f"The file is not a CSV file we can read{where}: {error}.")


def _listed(columns: list[str]) -> str:
    return ", ".join(f"“{c}”" for c in columns)
