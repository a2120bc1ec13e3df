"""Formatting of report figures: one filter per kind of figure, so every page writes a number the same way."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from core.currency import format_money
from core.templatetags.money import money

register = template.Library()


# The one money filter (core.templatetags.money), also under this library's name for the pages that load it.
register.filter("money", money)


def _headline_money(value: Any, currency: str) -> str:
    """A KPI card's amount: whole units from 10,000 up, where cents are noise and space is short."""
    return format_money(value, currency, whole=value is not None and abs(Decimal(value)) >= 10_000)


@register.filter
def percent(value: Any) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value) * 100:.1f}%"


@register.filter
def ratio(value: Any) -> str:
    return "—" if value is None else f"{Decimal(value):.1f}×"


@register.filter
def duration(seconds: Any) -> str:
    """Seconds as the two largest units a person would say: 3 d 4 h, 5 h 10 min, 12 min."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@register.filter
def count(value: Any) -> str:
    return "—" if value is None else f"{int(value):,}"


@register.filter
def figure(change: Any, currency: str = "") -> str:
    """A metrics.Change's value written for its kind."""
    value = change.current if hasattr(change, "current") else change
    kind = getattr(change, "kind", "count")
    return _format(value, kind, currency)


@register.filter
def previous_figure(change: Any, currency: str = "") -> str:
    return _format(change.previous, change.kind, currency)


def _format(value: Any, kind: str, currency: str) -> str:
    if kind == "money":
        return _headline_money(value, currency)
    if kind == "rate":
        return percent(value)
    if kind == "ratio":
        return ratio(value)
    if kind == "duration":
        return duration(value)
    return count(value)


@register.filter
def change_label(change: Any) -> str:
    if change.change is None:
        return "no earlier data" if not change.previous else "—"
    arrow = "▲" if change.change > 0 else ("▼" if change.change < 0 else "")
    return f"{arrow} {abs(change.change) * 100:.0f}%".strip()


@register.filter
def period_label(filters: Any) -> str:
    """The period a report's figures cover, as a tile says it: "last 30 days" when it ends today,
    else its dates ("1 – 30 Nov 2026")."""
    from reporting.filters import today

    start, end = getattr(filters, "start", None), getattr(filters, "end", None)
    if start is None or end is None:
        return ""
    if end == today():
        days = (end - start).days + 1
        return "today" if days == 1 else f"last {days} days"
    if start.year != end.year:
        return f"{start:%-d %b %Y} – {end:%-d %b %Y}"
    if start.month != end.month:
        return f"{start:%-d %b} – {end:%-d %b %Y}"
    return f"{start:%-d} – {end:%-d %b %Y}"
