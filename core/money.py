"""Money as sent or refused: the one reading of an amount that reaches Tandem as text.

An amount is taken exactly as written or refused with a sentence the sender can act on; it is
never rounded, trimmed or reinterpreted. JSON numbers are refused (a float cannot hold 0.10),
and so are exponents, signs, surrounding spaces and digits other than ASCII 0-9 (Python's
Decimal would read the full-width "５" as 5).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from core.currency import minor_units

# Digits, optionally a point and more digits: nothing else.
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]+)?\Z", re.ASCII)
AMOUNT_PATTERN = r"^[0-9]+(\.[0-9]+)?$"  # the same rule, for the OpenAPI document


class AmountError(ValueError):
    """Why a value is not an amount; its text is the sentence to show."""


def parse_amount(text: Any, currency: str | None) -> Decimal:
    """`text` as a Decimal, refused unless it is a plain decimal string the currency can hold.

    With `currency`, digits beyond its minor unit that are not zeros are refused ("49.999" USD,
    "1.5" JPY); trailing zeros are fine ("49.990" is 49.99). Without one, only the syntax is
    checked and the caller judges the places.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise AmountError('Send the amount as a decimal string such as "49.99"; JSON numbers can lose cents.')
    if not _AMOUNT.match(text):
        raise AmountError(
            f"“{text}” is not an amount: use digits 0-9 and a point, such as 49.99, with no sign, spaces or exponent."
        )
    amount = Decimal(text)
    if currency:
        places_problem = excess_places(amount, currency)
        if places_problem:
            raise AmountError(places_problem)
    return amount


def excess_places(amount: Decimal, currency: str) -> str | None:
    """A sentence if `amount` has more (non-zero) decimals than `currency`'s minor unit, else None."""
    places = minor_units(currency)
    if _significant_places(amount) <= places:
        return None
    unit = "no decimals" if places == 0 else f"{places} decimal place{'s' if places != 1 else ''}"
    return f"{currency.upper()} amounts have {unit}; “{amount}” would have to be rounded. Send the amount as charged."


def _significant_places(amount: Decimal) -> int:
    """Decimals of `amount` without its trailing zeros (49.990 -> 2); exact for any length, unlike normalize()."""
    sign, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(-exponent - zeros, 0)


def amount_json_schema(schema: dict[str, Any]) -> None:
    """For Field(json_schema_extra=): amounts travel as strings, and the document says so, not `number | string`."""
    schema.pop("anyOf", None)
    schema.update(type="string", pattern=AMOUNT_PATTERN)


def decimal_string(value: Any) -> Decimal | None:
    """A decimal string, syntax only (rates, percentages, amounts whose currency is known elsewhere)."""
    if value is None:
        return None
    return parse_amount(value, None)
