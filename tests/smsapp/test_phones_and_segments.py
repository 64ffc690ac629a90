"""Recipient parsing (libphonenumber) and segment counting, as staff will meet them."""

from __future__ import annotations

import pytest

from smsapp.forms import ComposeForm
from smsapp.phones import parse_recipients
from smsapp.segments import segment_info, utf16_units, visible_characters


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


@pytest.mark.parametrize(
    ("text", "seen", "units"),
    [
        ("", 0, 0),
        ("Your order is ready “today”", 27, 27),
        ("\N{PARTY POPPER}", 1, 2),  # U+1F389: one character, two UTF-16 units
        ("Party at 8 \N{PARTY POPPER}", 12, 13),
        ("\N{WOMAN}\u200d\N{PERSONAL COMPUTER}", 1, 5),  # a ZWJ sequence: one person at a laptop
        ("\N{THUMBS UP SIGN}\N{EMOJI MODIFIER FITZPATRICK TYPE-4}", 1, 4),  # skin tone
        ("\N{HEAVY BLACK HEART}\ufe0f", 1, 2),  # variation selector
        ("\U0001f1fa\U0001f1f8\U0001f1eb\U0001f1f7", 2, 8),  # two flags: US, FR
        ("\U0001f1fa\U0001f1f8\U0001f1eb", 2, 6),  # a flag and half of one
        ("\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 1, 14),
        ("Cafe\u0301", 4, 5),  # e + combining acute accent
        ("line\r\nnext", 9, 10),  # a typed new line arrives as \r\n
        ("\u200dx", 2, 2),  # a joiner with nothing before it is a character of its own
        ("a\u200db", 2, 3),  # a joiner joins emoji, not letters
    ],
)
def test_characters_are_counted_as_people_see_them_beside_the_utf16_units(text, seen, units):
    assert visible_characters(text) == seen
    assert utf16_units(text) == units
    assert segment_info(text).characters == seen


def test_an_astral_character_forcing_ucs2_is_named_once_as_one_character():
    # Iterated by code point, not by UTF-16 unit: U+1F389, never its surrogate halves.
    assert segment_info("Done \N{PARTY POPPER}").ucs2_characters == ("\N{PARTY POPPER}",)


def test_a_text_over_the_limit_is_refused_naming_both_counts():
    form = ComposeForm(data={"to": "+16505550101", "text": "a" * 990 + "\N{PARTY POPPER}" * 6})

    assert not form.is_valid()
    [error] = form.errors["text"]
    assert error.startswith("The message is 1002 characters long as RingCentral counts them")
    assert "(996 as you see them: emoji and some symbols count as two)" in error
