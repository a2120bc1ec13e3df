"""A commission's stored explanation as sentences, the same for managers and for the partner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

_SOURCES = {
    "link": "a click on their link",
    "code": "their referral code",
    "deal_registration": "their approved deal registration",
    "manual": "a direct assignment",
}


def _day(value: str | None) -> str:
    if not value:
        return ""
    try:
        return f"{datetime.fromisoformat(value):%d %b %Y}"
    except ValueError:
        return value


def explanation_lines(
    explanation: dict[str, Any], *, held: bool = False, for_partner: bool = False
) -> list[tuple[str, str]]:
    """(label, sentence) pairs: who was credited and why, under which rule and version, and the amounts.

    `held`: the commission waits for a fraud review, so its hold's end approves nothing.
    `for_partner`: the partner's own words, without the ids and rule versions staff look things up by."""
    lines: list[tuple[str, str]] = []
    why = explanation.get("attribution") or {}
    source = why.get("source")
    if source:
        name = why.get("partner", {}).get("name", "the partner")
        if source == "existing":
            credited = (
                f"Credited to {name}, who referred this customer through "
                f"{_SOURCES.get(why.get('referred_by', ''), 'a referral')}"
            )
        else:
            credited = f"Credited to {name} for {_SOURCES.get(source, source)}"
        if why.get("click"):
            before = _days_before(why["days_before"]) if "days_before" in why else ""
            clicked = "" if for_partner else f"click {why['click']} "
            credited += f" ({clicked}on {_day(why.get('clicked_at'))}{before})"
        if why.get("code"):
            credited += f" (code {why['code']})"
        if why.get("deal_registration"):
            credited += (
                f" (deal registration #{why['deal_registration']}, protected until {_day(why.get('protected_until'))})"
            )
        lines.append(("Attribution", credited + "."))
    if why.get("window_days"):
        model = "last click" if why.get("model") != "first_click" else "first click"
        among = f" among {why['candidates']} clicks" if why.get("candidates", 1) > 1 else ""
        lines.append(("Window", f"{why['window_days']} days after the click, {model} wins{among}."))
    for note in why.get("notes", []):
        lines.append(("Note", note))
    if why.get("self_referral"):
        lines.append(("Flag", why["self_referral"].capitalize() + "."))
    rule = explanation.get("reward_rule") or {}
    if rule and for_partner:
        lines.append(("Reward rule", f"{rule.get('name')}: {rule.get('terms')}."))
    elif rule:
        lines.append(
            (
                "Reward rule",
                f"{rule.get('name')} (version {rule.get('version')}, from {_day(rule.get('effective_from'))}): "
                f"{rule.get('terms')}.",
            )
        )
    if explanation.get("calculation"):
        # The calculation starts with the rule's own description, already shown above.
        lines.append(("Amount", _sentence(str(explanation["calculation"]).rpartition(" — ")[2])))
    sale = explanation.get("sale") or {}
    if sale.get("original_currency"):
        lines.append(
            (
                "Currency",
                f"{sale['original_amount']} {sale['original_currency']} at {sale['fx_rate']} = "
                f"{sale['amount']} {sale['currency']}.",
            )
        )
    if held:
        lines.append(("Hold", "Under review: it is approved only once the team clears it."))
    elif explanation.get("hold_until"):
        lines.append(("Hold", f"Approved automatically on {_day(explanation['hold_until'])} unless rejected."))
    return lines


def _days_before(days: int) -> str:
    if days == 0:
        return ", the same day"
    return f", {days} day{'' if days == 1 else 's'} before"


def _sentence(text: str) -> str:
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def risk_lines(score: int, reasons: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The fraud risk score and its sentences, for managers (attribution.fraud.signals)."""
    texts = [str(r.get("text", "")) for r in reasons or [] if isinstance(r, dict) and r.get("text")]
    if not texts:
        return [("Risk", f"{score} of 100: no warning signs.")]
    return [("Risk", f"{score} of 100.")] + [("Warning sign", text) for text in texts]
