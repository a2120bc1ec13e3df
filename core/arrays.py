"""PostgreSQL array literals, for sending thousands of values as one text parameter.

psycopg dumps a Python list element by element in Python, about a microsecond each; the click
flusher and the inbox processor send tens of thousands of values per batch. Joined into one
literal here (in C, by `str.join`), PostgreSQL parses them in C: a tenth of the cost. Send the
result as a text parameter cast to the array type, e.g. `%t::bigint[]` or `%s::varchar[]`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def number_array(values: Iterable[Any]) -> str:
    """Integers or Decimals (None for NULL) as an array literal."""
    values = list(values)
    if None in values:
        return "{" + ",".join("NULL" if value is None else str(value) for value in values) + "}"
    return "{" + ",".join(map(str, values)) + "}"


def text_array(values: Sequence[Any]) -> str:
    """Strings (None for NULL) as an array literal, each element quoted; anything else goes as its text."""
    if None not in values:
        try:
            body = '","'.join(values)
        except TypeError:  # an element that is not a string
            return text_array([str(value) for value in values])
        # The common case: no element holds a quote or a backslash, so none needs escaping.
        if "\\" not in body and body.count('"') == 2 * (len(values) - 1):
            return '{"' + body + '"}'
    return (
        "{"
        + ",".join(
            "NULL" if value is None else '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            for value in values
        )
        + "}"
    )
