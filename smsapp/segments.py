"""How a text will be billed: GSM-7 or UCS-2, and how many segments (the browser does the same)."""

from __future__ import annotations

import math
from dataclasses import dataclass

# GSM 03.38. A single character outside it (a curly quote, an emoji, a stray non-breaking
# space pasted from a document) turns the whole text into UCS-2: 70 characters a segment
# instead of 160, so the same message can cost two or three times as much.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# RingCentral's limit for one text, in UTF-16 code units (ringcentral-api.md, Sending).
MAX_TEXT_UNITS = 1000

# Escape-prefixed characters: each takes two septets.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    ucs2_characters: tuple[str, ...]  # the characters that forced UCS-2, first seen order


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def segment_info(text: str) -> SegmentInfo:
    forcing = tuple(
        dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENDED)
    )
    if not forcing:
        septets = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        return SegmentInfo("GSM-7", septets, _segments(septets, 160, 153), ())
    units = utf16_units(text)
    return SegmentInfo("UCS-2", units, _segments(units, 70, 67), forcing)


def _segments(units: int, single: int, multi: int) -> int:
    if units == 0:
        return 0
    return 1 if units <= single else math.ceil(units / multi)
