"""The one template filter for money, built into every template (settings TEMPLATES "builtins").

`{{ amount|money:currency }}` writes 1,234.50 USD, 1,235 JPY or 1,234.500 KWD: the currency's own
decimals, everywhere (pages, PDFs, emails). `{{ amount|amount:currency }}` writes the figure
without the code, for a column whose header names the currency.
"""

from __future__ import annotations

from typing import Any

from django import template

from core.currency import format_amount, format_money

register = template.Library()


@register.filter
def money(value: Any, currency: str = "") -> str:
    return format_money(value, currency or "")


@register.filter
def amount(value: Any, currency: str = "") -> str:
    return format_amount(value, currency or "")
