"""smsapp/phones.py: recipients normalized to E.164 (libphonenumber) in linear time, and
numbers compared however the message store writes them."""

from __future__ import annotations

import pytest

from smsapp import phones
from smsapp.phones import parse_recipients, same_number
from tests.support.texts import numbers

TO = "+16505550101"


@pytest.mark.parametrize(
    ("typed", "numbers", "invalid"),
    [
        ("+1 650 555 0101", ["+16505550101"], []),
        ("(650) 555-0101, 650.555.0102", ["+16505550101", "+16505550102"], []),
        ("+16505550101 +16505550102\n+16505550101", ["+16505550101", "+16505550102"], []),
        ("+44 20 7946 0958; 555-12", ["+442079460958"], ["555-12"]),
        ("call me", [], ["call", "me"]),
        (" , \n ", [], []),
    ],
)
def test_recipients_are_normalized_to_e164_and_bad_entries_named(typed, numbers, invalid):
    assert parse_recipients(typed, "US") == (numbers, invalid)


def test_the_default_region_applies_to_numbers_without_a_country_code():
    assert parse_recipients("020 7946 0958", "GB") == (["+442079460958"], [])


class CountingStr(str):
    """A number that counts how often it is compared for equality."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountingStr.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_parsing_compares_each_number_a_bounded_number_of_times(monkeypatch):
    # `n not in list` compares each new number with all the earlier ones: n²/2 comparisons.
    original = phones._format
    monkeypatch.setattr(phones, "_format", lambda number: CountingStr(original(number)))
    CountingStr.comparisons = 0
    typed = numbers(1500)

    parsed, invalid = phones.parse_recipients("\n".join([*typed, *typed[:10]]), "US")

    assert (parsed, invalid) == (typed, [])
    assert CountingStr.comparisons <= 2 * len(typed)


def test_space_separated_numbers_in_one_chunk_are_all_found_in_order():
    typed = numbers(200)
    assert phones.parse_recipients(" ".join(typed) + " nope", "US") == (typed, ["nope"])


# -- the same number, however the store writes it ----------------------------------------------


@pytest.mark.parametrize(
    "recorded",
    ["+16505550101", "16505550101", "(650) 555-0101", "650-555-0101", "+1 650 555 0101"],
)
def test_a_number_written_any_way_the_store_may_write_it_is_ours(recorded):
    assert same_number(recorded, TO)


@pytest.mark.parametrize("recorded", ["", "+16505550102", "6505550101999", "+446505550101"])
def test_other_numbers_are_not_ours(recorded):
    assert not same_number(recorded, TO)
