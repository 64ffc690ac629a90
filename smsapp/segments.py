"""How a text will be billed: GSM-7 or UCS-2, and how many segments (the browser does the same)."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

# GSM 03.38. A single character outside it (a curly quote, an emoji, a stray non-breaking
# space pasted from a document) turns the whole text into UCS-2: 70 characters a segment
# instead of 160, so the same message can cost two or three times as much.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# RingCentral's limit for one text, in UTF-16 code units (docs/ringcentral.md#sending).
MAX_TEXT_UNITS = 1000

# Escape-prefixed characters: each takes two septets.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    ucs2_characters: tuple[str, ...]  # the characters that forced UCS-2, first seen order
    characters: int = 0  # as people see them (visible_characters)


def utf16_units(text: str) -> int:
    """RingCentral's measure of a text's length: 🎉 (U+1F389) is two units."""
    return len(text.encode("utf-16-le")) // 2


ZWJ = "\u200d"
REGIONAL_INDICATORS = range(0x1F1E6, 0x1F1FF + 1)  # a pair of them is a flag
SKIN_TONES = range(0x1F3FB, 0x1F3FF + 1)  # 👍🏽 is one thumb
EMOJI_TAGS = range(0xE0020, 0xE007F + 1)  # subdivision flags (🏴 + tags + cancel tag)


def visible_characters(text: str) -> int:
    """How many characters a person sees in `text`: what they would count on the screen.

    Close to Unicode's grapheme clusters (UAX #29) for what staff type: a code point that only
    modifies the one before it (a combining accent, a variation selector such as the one in
    ❤️, a skin tone, an emoji tag, the second half of a flag) or is joined to it (ZWJ and the
    emoji after it, as in 👩‍💻), and
    the \\n of a \\r\\n, do not start a new character. compose.js counts the same way, so the
    counter and the server's errors agree. Hangul jamo and Indic conjuncts may count more than
    one; the limit itself is in UTF-16 units (utf16_units), so this is for people only."""
    count = 0
    previous = ""
    flag_open = False  # an odd regional indicator waits for its pair
    for char in text:
        point = ord(char)
        regional = point in REGIONAL_INDICATORS
        continues = count > 0 and (
            # An emoji joined to the one before (👩 ZWJ 💻); UAX #29 joins pictographs only,
            # and the symbols category ("So") is the nearest the standard library knows.
            (previous == ZWJ and unicodedata.category(char) == "So")
            or char == ZWJ
            or (previous == "\r" and char == "\n")
            or unicodedata.category(char).startswith("M")
            or point in SKIN_TONES
            or point in EMOJI_TAGS
            or (regional and flag_open)
        )
        if not continues:
            count += 1
        flag_open = regional and not (continues and flag_open)
        previous = char
    return count


def segment_info(text: str) -> SegmentInfo:
    # Iterating a str goes by code point (🎉 is one item), as compose.js does with for...of.
    forcing = tuple(
        dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENDED)
    )
    characters = visible_characters(text)
    if not forcing:
        septets = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        return SegmentInfo("GSM-7", septets, _segments(septets, 160, 153), (), characters)
    units = utf16_units(text)
    return SegmentInfo("UCS-2", units, _segments(units, 70, 67), forcing, characters)


def segment_count(text: str) -> int:
    """segment_info(text).segments without counting visible characters: for texts by the
    thousand (a bulk send's preview), where that count is most of the cost and unused."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        septets = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        return _segments(septets, 160, 153)
    return _segments(utf16_units(text), 70, 67)


def _segments(units: int, single: int, multi: int) -> int:
    if units == 0:
        return 0
    return 1 if units <= single else math.ceil(units / multi)
