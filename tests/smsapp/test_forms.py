"""smsapp/forms.py: the compose form's refusals, in words that count what a person sees."""

from __future__ import annotations

from smsapp.forms import ComposeForm


def test_a_text_over_the_limit_is_refused_naming_both_counts():
    form = ComposeForm(data={"to": "+16505550101", "text": "a" * 990 + "\N{PARTY POPPER}" * 6})

    assert not form.is_valid()
    [error] = form.errors["text"]
    assert error.startswith("The message is 1002 characters long as RingCentral counts them")
    assert "(996 as you see them: emoji and some symbols count as two)" in error
