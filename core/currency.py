"""Currencies: which codes are money (ISO 4217), how many decimals each has, and how an amount is written.

The codes and their minor units come from the ISO 4217 list itself (the `iso4217` package, which
tracks the maintenance agency's list); names, symbols and locale-aware number formats from CLDR
(Babel). CLDR's own "digits" differ from ISO's minor units in places (HUF, TWD: CLDR shows 0,
ISO and every payment processor count 2), and an amount Tandem accepts, rounds and pays must
follow ISO's.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_decimal, get_currency_name
from iso4217 import Currency

# Fund codes and units of account: in ISO 4217, but no one is paid in them.
_FUNDS = frozenset({"BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW", "XAD"})

# Currencies a program, a sale or a payout may be in: ISO 4217's current codes with a minor unit
# (precious metals, testing and "no currency" codes have none), funds left out.
CURRENCIES: frozenset[str] = frozenset(c.code for c in Currency if c.exponent is not None and c.code not in _FUNDS)

# The locale numbers are written in on pages, CSV, PDFs and emails.
LOCALE = "en"


def minor_units(currency: str) -> int:
    """Decimals of the currency's minor unit: 2 for USD, 0 for JPY, 3 for KWD (2 for an unknown code)."""
    return _exponents().get(currency.upper(), 2)


@lru_cache(maxsize=1)
def _exponents() -> dict[str, int]:
    return {c.code: c.exponent for c in Currency if c.exponent is not None}


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit (cents for most)."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def format_amount(amount: Any, currency: str = "", *, whole: bool = False) -> str:
    """An amount with the currency's own decimals and thousands grouping: 1,234.50 (USD), 1,235 (JPY).

    `whole` drops the decimals (headline figures, where cents are noise). Without a currency,
    two decimals.
    """
    if amount is None or amount == "":
        return "—"
    return _formatted(str(amount), currency, whole)


# Prices repeat: a burst of a million sales has a few thousand distinct amounts, and Babel takes tens of
# microseconds an amount (a tenth of the worker's time when every commission email was written).
@lru_cache(maxsize=8192)
def _formatted(amount: str, currency: str, whole: bool) -> str:
    places = 0 if whole else minor_units(currency) if currency else 2
    value = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return str(format_decimal(value, format=pattern, locale=LOCALE, decimal_quantization=True))


def format_money(amount: Any, currency: str, *, whole: bool = False) -> str:
    """An amount and its currency as every page, CSV, PDF and email writes it: 1,234.50 USD."""
    if amount is None or amount == "":
        return "—"
    return f"{format_amount(amount, currency, whole=whole)} {currency}".strip()


def currency_name(currency: str) -> str:
    """The currency's English name (US Dollar), or the code when CLDR does not know it."""
    try:
        return str(get_currency_name(currency, locale=LOCALE))
    except Exception:  # noqa: BLE001 - an unknown code is shown as itself
        return currency


def plain_amount(amount: Decimal, currency: str) -> str:
    """An amount for a machine-read file (CSV, bank files): the currency's decimals, no grouping: 1234.50."""
    return str(round_money(Decimal(amount), currency))
