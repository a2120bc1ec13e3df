"""The one rule for text: what PostgreSQL or a person cannot use is refused at the edge.

Every route by which text enters Tandem (the API, the webhooks, CSV imports, forms) checks it
with these functions before anything is stored, and answers with the field (or item, or row)
at fault. PostgreSQL's text types cannot hold NUL at all; the other control characters, lone
surrogates and the two noncharacters store but show as nothing, break CSV and PDF output, or
fail to encode as UTF-8. Tab, line feed and carriage return stay allowed.
"""

from __future__ import annotations

import re
from typing import Any

_UNUSABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def unusable_character(value: str) -> str | None:
    """A sentence naming the first character of `value` that cannot be stored, or None if all can."""
    found = _UNUSABLE.search(value)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        what = "a NUL character (\\u0000)"
    elif "\ud800" <= char <= "\udfff":
        what = f"an unpaired surrogate (\\u{ord(char):04x})"
    else:
        what = f"the control character \\u{ord(char):04x}"
    return f"Contains {what} at position {found.start() + 1}, which cannot be stored; remove it and send again."


def find_unusable_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first string in a decoded JSON value (keys included) with an unusable character.

    Answers (path, sentence): the path names the field as a person would look for it
    (`events.3.customer_external_id`, `metadata`), or "" for the value itself.
    """
    if isinstance(value, str):
        problem = unusable_character(value)
        return (path, problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            here = f"{path}.{key_text}" if path else key_text
            problem = unusable_character(key_text)
            if problem:
                return here, problem
            found = find_unusable_text(item, here)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = find_unusable_text(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None
