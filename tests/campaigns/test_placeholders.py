"""{placeholders}: which columns a text names, and the text of one row."""

from __future__ import annotations

import pytest

from campaigns.placeholders import (
    PlaceholderError,
    column_key,
    placeholders,
    render,
    unknown_placeholders,
)


def test_a_placeholder_matches_its_column_however_the_header_writes_it():
    assert column_key("First name") == column_key("first_name") == column_key("FIRST-NAME")
    assert unknown_placeholders("Hi {first_name}", ["First Name", "Phone"]) == []
    assert unknown_placeholders("Hi {first_name} {city}", ["First Name"]) == ["city"]


def test_render_fills_each_placeholder_and_names_the_empty_ones():
    text, empty = render(
        "Hi {First name}, {when} at {place}", {"first_name": "Ana", "when": " 9:30 ", "place": ""}
    )
    assert text == "Hi Ana, 9:30 at "
    assert empty == ["place"]


def test_doubled_braces_are_braces_and_values_are_never_read_as_placeholders():
    text, empty = render("{{code}}: {code}", {"code": "{first_name}"})
    assert text == "{code}: {first_name}"
    assert empty == []


@pytest.mark.parametrize("text", ["Hi {name", "Hi name}", "Hi {}", "Hi { }"])
def test_a_lone_brace_or_an_empty_placeholder_is_refused_with_how_to_write_it(text):
    with pytest.raises(PlaceholderError):
        placeholders(text)


def test_placeholders_are_listed_once_in_order_of_first_use():
    assert placeholders("{b} {a} {B} {a}") == ["b", "a"]
