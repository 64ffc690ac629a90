"""Opt-out and opt-in keywords: the whole text, any case, spaces and punctuation around it."""

from __future__ import annotations

import pytest

from conversations.keywords import keyword_of
from conversations.models import InboundText

OUT, IN, NONE = InboundText.Keyword.OPT_OUT, InboundText.Keyword.OPT_IN, InboundText.Keyword.NONE


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop. ",
        "stop!",
        "UNSUBSCRIBE",
        "quit",
        "Cancel",
        "end",
        "\u00a0STOP\u200b",
        "«stop»",
        "STOP\n",
    ],
)
def test_every_opt_out_word_opts_out_whatever_surrounds_it(text):
    assert keyword_of(text) == OUT


@pytest.mark.parametrize("text", ["START", "subscribe", "Resume!", "continue", " UNSTOP "])
def test_every_opt_in_word_opts_back_in(text):
    assert keyword_of(text) == IN


@pytest.mark.parametrize(
    "text",
    [
        "stop please",
        "Please STOP",
        "S.T.O.P",
        "stopp",
        "",
        "   ",
        "HELP",
        "the end",
        "st op",
        "STOP STOP",
    ],
)
def test_a_sentence_containing_a_keyword_is_a_message_not_a_keyword(text):
    assert keyword_of(text) == NONE
