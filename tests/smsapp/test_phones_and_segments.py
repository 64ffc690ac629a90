"""Recipient parsing (libphonenumber) and segment counting, as staff will meet them."""

from __future__ import annotations

import pytest

from smsapp.phones import parse_recipients
from smsapp.segments import segment_info


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


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("{" * 80, "GSM-7", 1),  # extended characters take two septets: 160
        ("{" * 81, "GSM-7", 2),
        ("é" * 70, "GSM-7", 1),  # é is in the GSM-7 basic set
        ("ü" + "ç" * 69, "UCS-2", 1),  # ç (lower case) is not
        ("ç" * 71, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # 70 UTF-16 units
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_segments_follow_gsm7_and_ucs2_rules(text, encoding, segments):
    info = segment_info(text)
    assert (info.encoding, info.segments) == (encoding, segments)


def test_the_characters_that_force_ucs2_are_named_once_in_order():
    info = segment_info("Price: 5\u00a0€ \u2013 “today”")
    assert info.ucs2_characters == ("\u00a0", "\u2013", "“", "”")
