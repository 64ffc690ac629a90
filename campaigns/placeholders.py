"""{placeholders} in a text: which columns it names, and the text for one CSV row."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# {name}; {{ and }} are literal braces. A name is what a CSV header says, loosely: "First
# name", "first_name" and "FIRST-NAME" are one column ({first_name}).
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class PlaceholderError(ValueError):
    """The text's braces are not placeholders we can fill."""


def column_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip()).casefold()


def placeholders(text: str) -> list[str]:
    """The placeholder names in order of first use. Raises PlaceholderError for a lone brace
    or an empty {}: "{{" and "}}" write a brace."""
    found: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None:
            raise PlaceholderError(f"a lone “{token}”: write {token * 2} for the character itself")
        if not name.strip():
            raise PlaceholderError("an empty {}: put a column name inside, e.g. {first_name}")
        if column_key(name) not in map(column_key, found):
            found.append(name.strip())
    return found


def unknown_placeholders(text: str, columns: Iterable[str]) -> list[str]:
    known = {column_key(c) for c in columns}
    return [name for name in placeholders(text) if column_key(name) not in known]


def render(text: str, row: Mapping[str, str]) -> tuple[str, list[str]]:
    """(the text with this row's values, the placeholders whose value is empty). `row` maps
    column_key(column) to its value."""
    empty: list[str] = []

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        value = (row.get(column_key(match.group(1) or "")) or "").strip()
        if not value:
            empty.append(match.group(1).strip())
        return value

    return _TOKEN.sub(fill, text), empty
