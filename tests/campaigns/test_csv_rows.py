"""Reading an uploaded CSV: the header, the phone column, encodings and separators."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from campaigns.csv_rows import CsvFile


def csv_file(text: str, encoding: str = "utf-8") -> CsvFile:
    return CsvFile(io.BytesIO(text.encode(encoding)))


def test_rows_keep_their_line_numbers_and_skip_blank_lines():
    reader = csv_file("phone,name\n+16505550101,Ana\n\n+16505550102,Bo\n")
    rows = list(reader.rows())
    assert [(r.line, r.values["name"]) for r in rows] == [(2, "Ana"), (4, "Bo")]


@pytest.mark.parametrize("header", ["Phone", "Mobile number", "cell", "TO"])
def test_a_header_that_names_a_phone_column_is_taken(header, settings):
    assert csv_file(f"Name,{header}\nAna,6505550101\n").phone_column() == header


def test_without_such_a_header_the_column_holding_numbers_is_found(settings):
    settings.SMS_DEFAULT_REGION = "US"
    reader = csv_file("Name,Contact,City\nAna,(650) 555-0101,Oslo\nBo,6505550102,Rome\n")
    assert reader.phone_column() == "Contact"
    # the rows read to find it are still there
    assert [r.values["Name"] for r in reader.rows()] == ["Ana", "Bo"]


def test_no_phone_column_is_a_question_naming_the_columns(settings):
    with pytest.raises(ValidationError, match="“Name”, “City”"):
        csv_file("Name,City\nAna,Oslo\n").phone_column()


def test_a_chosen_column_that_does_not_exist_is_named(settings):
    with pytest.raises(ValidationError, match="no column “Tel”"):
        csv_file("Name,Phone\nAna,1\n").phone_column("Tel")


def test_excel_utf8_with_its_byte_order_mark_and_semicolons_is_read():
    reader = csv_file("\ufeffTéléphone;Prénom\n+33612345678;Zoé\n")
    assert reader.columns == ["Téléphone", "Prénom"]
    assert next(iter(reader.rows())).values["Prénom"] == "Zoé"


def test_a_file_that_is_not_utf8_says_how_to_save_it():
    with pytest.raises(ValidationError, match="CSV UTF-8"):
        list(csv_file("phone,name\n+16505550101,Zoé\n", "cp1252").rows())


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("\n\n", "empty"), ("phone,Phone\n1,2\n", "same name")],
)
def test_a_file_without_a_usable_header_is_refused(text, message):
    with pytest.raises(ValidationError, match=message):
        csv_file(text)
