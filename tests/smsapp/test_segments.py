"""smsapp/segments.py: segment counting (GSM-7 and UCS-2) and characters counted as people
see them, beside RingCentral's UTF-16 units."""

from __future__ import annotations

import pytest

from smsapp.segments import segment_info, utf16_units, visible_characters


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


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hello",
        "x" * 160,
        "x" * 161,
        "€" * 80,
        "€" * 81,
        "café ☕",
        "👍🏽" * 40,
        "a\u00a0b" * 30,
    ],
)
def test_segment_count_agrees_with_segment_info(text):
    from smsapp.segments import segment_count

    assert segment_count(text) == segment_info(text).segments
