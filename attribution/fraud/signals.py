"""The fraud signals: what each one looks at, its default weight and threshold, and its sentence.

A signal that fires adds its weight (points) to the commission's risk score, capped at 100. Each
reason is a sentence a manager can act on and a partner could read; customer emails are masked.
The facts the signals judge are gathered in bulk by attribution.fraud.scoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS

from referrals.services import email_domain


@dataclass(frozen=True)
class Signal:
    key: str
    label: str
    weight: int
    threshold: float | None = None
    threshold_label: str = ""
    help: str = ""


SIGNALS: dict[str, Signal] = {
    s.key: s
    for s in (
        Signal(
            "self_referral",
            "Self-referral",
            100,
            help="The customer's email is the partner's own: exactly, with a +tag, or Gmail dots.",
        ),
        Signal(
            "own_visitor",
            "Partner's own device",
            80,
            help="The click that won came from the same address and browser as the partner's own portal visits.",
        ),
        Signal(
            "company_domain",
            "Partner's company domain",
            40,
            help="The customer's email is on the partner's company domain (free mail providers are ignored).",
        ),
        Signal(
            "disposable_email",
            "Throwaway email",
            40,
            help="The customer's email is on a disposable address service.",
        ),
        Signal(
            "fast_sale",
            "Sale seconds after the click",
            30,
            60,
            "seconds",
            help="The sale came within this many seconds of the click, and in under a twentieth of the "
            "program's median time from click to sale.",
        ),
        Signal(
            "visitor_clicks",
            "Many clicks from one visitor",
            25,
            20,
            "clicks in a day",
            help="The visitor behind the winning click clicked the same link this many times that day.",
        ),
        Signal(
            "network_burst",
            "Burst from one network",
            25,
            50,
            "clicks in an hour",
            help="This many clicks on the partner's links from one network within an hour of the winning click.",
        ),
        Signal(
            "refund_rate",
            "High refund rate",
            30,
            30,
            "% refunded over 30 days",
            help="The share of the partner's sales refunded over the last 30 days (from 5 sales on).",
        ),
        Signal(
            "shared_visitor",
            "Visitor shared with another partner",
            35,
            help="The visitor behind the winning click also clicked another partner's link that day.",
        ),
        Signal(
            "shared_payout",
            "Payout details shared with another partner",
            50,
            help="Another partner of the workspace is paid to the same account.",
        ),
        Signal(
            "conversion_spike",
            "Conversion spike",
            30,
            5,
            "robust z-score",
            help="The partner's sales that day stand this far above their usual days (median and MAD of "
            "the 28 days before), from 10 sales a day on.",
        ),
    )
}

SPIKE_MIN_SALES = 10
REFUND_MIN_SALES = 5
FAST_SALE_MEDIAN_SHARE = 0.05


def mask_email(email: str) -> str:
    """`jane@acme.com` → `j•••@acme.com`: enough for a manager to recognise, not to copy."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


def mailbox(email: str) -> str:
    """The mailbox an address delivers to: lower-case, no +tag, and for Gmail no dots."""
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return ""
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def self_referral(customer_email: str, partner_email: str) -> str | None:
    if not customer_email or not partner_email:
        return None
    customer, partner = customer_email.strip().lower(), partner_email.strip().lower()
    masked = mask_email(customer)
    if customer == partner:
        return f"The customer's email ({masked}) is the partner's own: a self-referral."
    if mailbox(customer) and mailbox(customer) == mailbox(partner):
        if "+" in customer.partition("@")[0]:
            return f"The customer's email ({masked}) is the partner's own mailbox with a +tag: a self-referral."
        return f"The customer's email ({masked}) is the partner's own Gmail address written with dots: a self-referral."
    return None


def company_domain(customer_email: str, partner_email: str) -> str | None:
    domain = email_domain(customer_email) if customer_email else ""
    if domain and domain == email_domain(partner_email):
        return f"The customer's email ({mask_email(customer_email)}) is on the partner's own company domain."
    return None


def disposable_email(customer_email: str) -> str | None:
    domain = customer_email.rpartition("@")[2].strip().lower()
    if domain and domain in DISPOSABLE_DOMAINS:
        return f"The customer signed up with a throwaway address ({mask_email(customer_email)})."
    return None


def duration(seconds: float) -> str:
    """Plain words: "12 seconds", "4 minutes", "3 hours", "2 days"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = round(seconds / size)
            return f"{n} {unit}{'' if n == 1 else 's'}"
    n = max(0, round(seconds))
    return f"{n} second{'' if n == 1 else 's'}"


def fast_sale(seconds: float, median: float | None, threshold: float) -> str | None:
    if seconds < 0 or seconds >= threshold:
        return None
    if median is None:
        return f"The sale came {duration(seconds)} after the click."
    if seconds >= median * FAST_SALE_MEDIAN_SHARE:
        return None
    return (
        f"The sale came {duration(seconds)} after the click; this program's customers usually take {duration(median)}."
    )


def visitor_clicks(count: int, threshold: float) -> str | None:
    if count >= threshold:
        return f"The visitor behind the winning click clicked the same link {count} times that day."
    return None


def network_burst(count: int, threshold: float) -> str | None:
    if count >= threshold:
        return f"{count} clicks on the partner's links came from one network within an hour of the winning click."
    return None


def refund_rate(sales: int, refunded: int, sold_amount: Any, refunded_amount: Any, threshold: float) -> str | None:
    if sales < REFUND_MIN_SALES or not sold_amount:
        return None
    share = float(refunded_amount) / float(sold_amount) * 100
    if share >= threshold:
        return (
            f"{round(share)} % of the partner's sales over the last 30 days were refunded "
            f"({refunded} refund{'' if refunded == 1 else 's'} on {sales} sales)."
        )
    return None


def shared_visitor(other_partners: list[str]) -> str | None:
    if not other_partners:
        return None
    names = ", ".join(other_partners[:3]) + (" and others" if len(other_partners) > 3 else "")
    return f"The visitor behind the winning click also clicked links of {names} that day."


def shared_payout(other_partners: list[str]) -> str | None:
    if not other_partners:
        return None
    names = ", ".join(other_partners[:3]) + (" and others" if len(other_partners) > 3 else "")
    return f"The partner is paid to the same account as {names}."


def robust_z(value: float, history: list[float]) -> float:
    """How far `value` stands above `history`, in robust standard deviations (median and MAD).

    When most days are alike the MAD is 0; the mean absolute deviation stands in (scaled to match
    a normal distribution's deviation), and at least one sale a day, so a quiet partner's first
    good day is not a spike by itself.
    """
    if not history:
        return 0.0
    ordered = sorted(history)
    median = _median(ordered)
    mad = _median(sorted(abs(h - median) for h in ordered))
    if mad > 0:
        return 0.6745 * (value - median) / mad
    mean_ad = sum(abs(h - median) for h in ordered) / len(ordered)
    return (value - median) / max(1.0, 1.2533 * mean_ad)


def _median(ordered: list[float]) -> float:
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def conversion_spike(count: int, history: list[float], threshold: float) -> str | None:
    if count < SPIKE_MIN_SALES:
        return None
    z = robust_z(count, history)
    if z >= threshold:
        usual = _median(sorted(history)) if history else 0
        return (
            f"The partner made {count} sales that day against a usual {usual:g} a day "
            f"(robust z-score {z:.1f}): a conversion spike."
        )
    return None
