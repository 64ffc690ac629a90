"""Recipients as staff type them, to E.164, with every invalid entry named."""

from __future__ import annotations

import re

import phonenumbers

# Commas, semicolons and new lines always separate. Within what is left, spaces may be part of
# a number ("+1 650 555 0101") or separate two ("+16505550101 +16505550102"): libphonenumber's
# matcher tells which, and whatever it does not recognise is named as invalid.
_HARD_SEPARATORS = re.compile(r"[,;\n\r]+")
# E.164's shape: "+", a country code that never starts with 0, at most 15 digits in all. The
# shortest real numbers (some small countries) have 8 digits with the country code.
_E164_SHAPE = re.compile(r"\+[1-9]\d{7,14}", re.ASCII)


def is_e164(number: str) -> bool:
    """Whether `number` is written in E.164, the only form stored and sent to RingCentral.

    The one shape rule of the project: the form, the service, the sender checks and the
    commands all ask here (a number that passed `to_e164` always has this shape)."""
    return bool(_E164_SHAPE.fullmatch(number or ""))


def to_e164(candidate: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return _format(number)


def parse_recipients(raw: str, region: str) -> tuple[list[str], list[str]]:
    """(valid numbers in E.164, first occurrence order, no repeats), (entries that are not).

    Linear in the length of `raw`: a pasted list must not cost a web worker seconds (a list
    lookup per number made 60,000 numbers cost 20 s). Callers still bound `raw` first.
    """
    numbers: dict[str, None] = {}  # an ordered set: first occurrence order, O(1) lookups
    invalid: list[str] = []
    for chunk in _HARD_SEPARATORS.split(raw):
        chunk = chunk.strip()
        if not chunk:
            continue
        whole = to_e164(chunk, region)
        if whole:
            numbers.setdefault(whole)
            continue
        # The text between matches is what is invalid; gathered and joined once, because
        # cutting each match out of the chunk in turn copies the chunk once per number.
        between: list[str] = []
        position = 0
        for match in phonenumbers.PhoneNumberMatcher(chunk, region, phonenumbers.Leniency.VALID):
            numbers.setdefault(_format(match.number))
            between.append(chunk[position : match.start])
            position = match.end
        between.append(chunk[position:])
        invalid.extend(" ".join(between).split())
    return list(numbers), invalid


def _format(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def same_number(recorded: str, e164: str) -> bool:
    """Whether a number as a RingCentral record writes it is our E.164 number.

    Records' numbers are "usually" E.164 (docs/ringcentral.md#message-store-lists); also seen
    without the "+", and a national form is possible. Compared as parsed numbers, never as
    strings: a miss here makes a sent text look absent, and it would be sent again.
    """
    recorded = (recorded or "").strip()
    if not recorded:
        return False
    if not recorded.startswith("+") and "+" + re.sub(r"\D", "", recorded) == e164:
        return True  # international digits without the "+"
    try:
        ours = phonenumbers.parse(e164, None)
        theirs = phonenumbers.parse(recorded, phonenumbers.region_code_for_number(ours))
    except phonenumbers.NumberParseException:
        return False
    return _format(theirs) == e164
