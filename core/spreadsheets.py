"""Safe CSV cells for files people open in a spreadsheet."""

from __future__ import annotations

from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Defuse text a spreadsheet would run as a formula (CSV injection); other values pass through.

    Partner names, referrers and imported cells come from outside, so every CSV Tandem writes goes
    through this. Numbers are not text and stay as they are, negative amounts included.
    """
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value
