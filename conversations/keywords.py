"""Opt-out and opt-in keywords (docs/ringcentral.md#opt-out)."""

from __future__ import annotations

import unicodedata

from conversations.models import InboundText

# RingCentral's lists, for each sender and recipient pair. HELP is not documented: no action.
OPT_OUT_WORDS = frozenset({"STOP", "UNSUBSCRIBE", "QUIT", "CANCEL", "END"})
OPT_IN_WORDS = frozenset({"START", "SUBSCRIBE", "RESUME", "CONTINUE", "UNSTOP"})


def keyword_of(text: str) -> InboundText.Keyword:
    """What a text asks for when its whole body is a keyword, whatever its case and whatever
    spaces or punctuation surround it ("Stop.", " stop! "). "Stop texting me" is a sentence a
    person should read, not a keyword: RingCentral matches whole messages too."""
    word = _trimmed(text).upper()
    if word in OPT_OUT_WORDS:
        return InboundText.Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return InboundText.Keyword.OPT_IN
    return InboundText.Keyword.NONE


def _trimmed(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _ignorable(text[start]):
        start += 1
    while end > start and _ignorable(text[end - 1]):
        end -= 1
    return text[start:end]


def _ignorable(char: str) -> bool:
    # P*: punctuation of any script; Z*: spaces (incl. NBSP); Cc/Cf: line breaks, zero-width.
    return unicodedata.category(char)[0] in "PZ" or unicodedata.category(char) in ("Cc", "Cf")
