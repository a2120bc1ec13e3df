"""A commission's stored explanation as sentences, the same for managers and for the partner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

_SOURCES = {
    "link": "a click on their link",
    "code": "their referral code",
    "deal_registration": "their approved deal registration",
    "manual": "your system naming the partner",
    "existing": "an earlier referral (later sales stay with the partner who referred the customer)",
}


def _day(value: str | None) -> str:
    if not value:
        return ""
    try:
        return f"{datetime.fromisoformat(value):%d %b %Y}"
    except ValueError:
        return value


def explanation_lines(explanation: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, sentence) pairs: who was credited and why, under which rule and version, and the amounts."""
    lines: list[tuple[str, str]] = []
    why = explanation.get("attribution") or {}
    source = why.get("source")
    if source:
        credited = f"Credited to {why.get('partner', {}).get('name', 'the partner')} for {_SOURCES.get(source, source)}"
        if why.get("click"):
            credited += f" (click {why['click']} on {_day(why.get('clicked_at'))}, {why.get('days_before', 0)} days before)"
        if why.get("code"):
            credited += f" (code {why['code']})"
        if why.get("deal_registration"):
            credited += f" (deal registration #{why['deal_registration']}, protected until {_day(why.get('protected_until'))})"
        lines.append(("Attribution", credited + "."))
    if why.get("window_days"):
        model = "last click" if why.get("model") != "first_click" else "first click"
        lines.append(("Window", f"{why['window_days']} days after the click, {model} wins"
                                f"{'' if why.get('candidates', 1) <= 1 else f' among {why['candidates']} clicks'}."))
    for note in why.get("notes", []):
        lines.append(("Note", note))
    if why.get("self_referral"):
        lines.append(("Flag", why["self_referral"].capitalize() + "."))
    rule = explanation.get("reward_rule") or {}
    if rule:
        lines.append(("Reward rule", f"{rule.get('name')} (version {rule.get('version')}, from {_day(rule.get('effective_from'))}): "
                                     f"{rule.get('terms')}."))
    if explanation.get("calculation"):
        lines.append(("Amount", str(explanation["calculation"]) + "."))
    sale = explanation.get("sale") or {}
    if sale.get("original_currency"):
        lines.append(("Currency", f"{sale['original_amount']} {sale['original_currency']} at {sale['fx_rate']} = "
                                  f"{sale['amount']} {sale['currency']}."))
    if explanation.get("hold_until"):
        lines.append(("Hold", f"Approved automatically on {_day(explanation['hold_until'])} unless rejected."))
    return lines
