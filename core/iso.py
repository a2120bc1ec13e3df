"""Countries (ISO 3166-1 alpha-2) with the English names people use, for forms and validation.

Codes from pycountry (Debian's iso-codes, which follows the ISO 3166 maintenance agency); names from
CLDR through Babel, which writes "Bolivia" and "Türkiye" where ISO writes "Bolivia, Plurinational
State of". Currency codes live in core.currency.
"""

from __future__ import annotations

import unicodedata

import pycountry
from babel import Locale

from core.currency import CURRENCIES

__all__ = ["COUNTRIES", "COUNTRY_CODES", "COUNTRY_NAMES", "CURRENCIES"]


def _countries() -> tuple[tuple[str, str], ...]:
    names = Locale("en").territories
    pairs = [
        (c.alpha_2, str(names.get(c.alpha_2) or getattr(c, "common_name", None) or c.name)) for c in pycountry.countries
    ]
    # Sorted as a reader expects: Åland Islands among the A's.
    return tuple(sorted(pairs, key=lambda pair: unicodedata.normalize("NFKD", pair[1]).casefold()))


COUNTRIES: tuple[tuple[str, str], ...] = _countries()
COUNTRY_CODES: frozenset[str] = frozenset(code for code, _ in COUNTRIES)
COUNTRY_NAMES: dict[str, str] = dict(COUNTRIES)
