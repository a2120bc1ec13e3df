"""Scoring commissions for fraud in bulk: a few queries per set of commissions, never one per row.

`score_commissions` takes what the inbox processor is about to insert (or any commissions being
made) and answers, for each, its risk score (0-100), the sentences behind it, and whether it is
held for review (at or above the program's threshold, or its partner flagged). The facts are
gathered per set: the programs' settings, flagged partners, the winning clicks and how many
clicks surround them, other partners' clicks by the same visitor, the partners' own devices, and
each partner's sales and refunds of the days around the set's sales.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from attribution.fraud import signals as S
from attribution.fraud.days import Daily, daily_conversions
from attribution.fraud.payouts import partners_sharing_payouts
from attribution.fraud.settings import Rules, rules_for_programs
from attribution.models import PartnerFlag, PartnerVisit
from core.sql import fetch_rows
from partners.models import Partner
from referrals.models import Click, Referral

_MAX_VISITOR_DAYS = 7  # distinct days of winning clicks checked for visitors shared between partners
_MEDIAN_TTL = 600.0  # seconds a program's median time-to-conversion is reused
_MEDIAN_SAMPLE = 2000
_MEDIAN_MIN = 20
_CLICK_CACHE_MAX = 50_000


@dataclass(slots=True)
class Subject:
    """One commission being made, with what the signals judge it on."""

    program_id: int
    partner_id: int
    kind: str  # Commission.Kind value
    occurred_at: datetime
    customer_email: str = ""
    partner_email: str = ""
    click_pk: int | None = None


@dataclass(slots=True)
class Risk:
    score: int = 0
    reasons: list[dict[str, Any]] = field(default_factory=list)
    held: bool = False

    def add(self, signal: str, points: int, text: str | None) -> None:
        if text and points > 0:
            self.reasons.append({"signal": signal, "points": points, "text": text})
            self.score = min(100, self.score + points)


@dataclass(frozen=True)
class _ClickFacts:
    link_id: int
    partner_id: int
    visitor_hash: str
    ip_hash: str
    clicked_at: datetime
    visitor_clicks: int
    network_clicks: int


# Click facts stop changing once their day is over and an hour has passed (the windows counted
# below end then): clicks older than two days are kept per process, keyed by workspace and click.
_click_cache: dict[tuple[int, int], _ClickFacts] = {}
_median_cache: dict[tuple[int, int], tuple[float, float | None]] = {}
# (workspace, day, visitor hash) → the partners it clicked that day, when more than one (empty: one).
_visitor_cache: dict[tuple[int, date, str], frozenset[int]] = {}


def score_commissions(workspace_id: int, subjects: list[Subject], *, now: datetime) -> list[Risk]:
    if not subjects:
        return []
    rules = rules_for_programs(workspace_id, {s.program_id for s in subjects})
    partner_ids = {s.partner_id for s in subjects}
    flagged = set(
        PartnerFlag.objects.filter(workspace_id=workspace_id, partner_id__in=partner_ids).values_list(
            "partner_id", flat=True
        )
    )
    clicks = _click_facts(workspace_id, {s.click_pk for s in subjects if s.click_pk}, now=now)
    shared = _shared_visitors(workspace_id, clicks, now=now)
    own = _own_devices(workspace_id, partner_ids, clicks)
    days = daily_conversions(workspace_id, partner_ids, [s.occurred_at.date() for s in subjects])
    medians = {pk: _median_seconds(workspace_id, pk) for pk in {s.program_id for s in subjects if s.click_pk}}
    same_account = partners_sharing_payouts(workspace_id, partner_ids)
    other_ids = {pk for partners in [*shared.values(), *same_account.values()] for pk in partners} - partner_ids
    names = dict(
        Partner.objects.filter(workspace_id=workspace_id, pk__in=partner_ids | other_ids).values_list("id", "name")
    )

    risks = []
    memo: dict[Any, Any] = {}
    # What depends on the customer and the click is worked out once per customer of the set; what
    # depends on the day (refunds, spike) once per partner and day; and commissions judged alike (the
    # same reasons under the same rule, partner flagged or not) share one Risk, encoded once: most
    # commissions of an inbox have no reason at all.
    steady: dict[tuple[Any, ...], tuple[tuple[str, int, str], ...]] = {}
    alike: dict[tuple[Any, ...], Risk] = {}
    for subject in subjects:
        rule = rules[subject.program_id]
        click = clicks.get(subject.click_pk) if subject.click_pk else None
        key = (subject.partner_id, subject.program_id, subject.customer_email, subject.click_pk)
        reasons = steady.get(key)
        if reasons is None:
            reasons = steady[key] = tuple(_steady_reasons(subject, rule, click, shared, own, same_account, names))
        fast_text = spike_text = None
        if click is not None and subject.kind == "sale":
            seconds = (subject.occurred_at - click.clicked_at).total_seconds()
            if 0 <= seconds < rule.thresholds["fast_sale"]:
                fast_text = S.fast_sale(seconds, medians.get(subject.program_id), rule.thresholds["fast_sale"])
        refund_text, spike = _partner_day(subject.partner_id, subject.occurred_at.date(), rule, days, memo)
        if subject.kind == "sale":
            spike_text = spike
        whole = (id(rule), subject.partner_id in flagged, reasons, fast_text, refund_text, spike_text)
        risk = alike.get(whole)
        if risk is None:
            risk = alike[whole] = Risk()
            for signal, points, text in reasons:
                risk.add(signal, points, text)
            w = rule.weights
            risk.add("fast_sale", w["fast_sale"], fast_text)
            risk.add("refund_rate", w["refund_rate"], refund_text)
            risk.add("conversion_spike", w["conversion_spike"], spike_text)
            risk.held = risk.score >= rule.review_threshold or subject.partner_id in flagged
            if subject.partner_id in flagged:
                risk.reasons.append({"signal": "flagged_partner", "points": 0, "text": "The partner is under review."})
        risks.append(risk)
    return risks


def _steady_reasons(
    subject: Subject,
    rule: Rules,
    click: _ClickFacts | None,
    shared: dict[str, set[int]],
    own: set[tuple[int, str]],
    same_account: dict[int, set[int]],
    names: dict[int, str],
) -> list[tuple[str, int, str]]:
    """The reasons that depend only on the customer, its winning click and the partner."""
    w, t = rule.weights, rule.thresholds
    found: list[tuple[str, int, str | None]] = []
    email = subject.customer_email
    self_referral = S.self_referral(email, subject.partner_email)
    found.append(("self_referral", w["self_referral"], self_referral))
    if click is not None and (
        (subject.partner_id, click.visitor_hash) in own or (subject.partner_id, click.ip_hash) in own
    ):
        found.append(
            (
                "own_visitor",
                w["own_visitor"],
                "The click that won came from the same network and browser as the partner's own visits to "
                "their portal that day.",
            )
        )
    if self_referral is None:
        found.append(("company_domain", w["company_domain"], S.company_domain(email, subject.partner_email)))
    found.append(("disposable_email", w["disposable_email"], S.disposable_email(email)))
    if click is not None:
        found.append(
            ("visitor_clicks", w["visitor_clicks"], S.visitor_clicks(click.visitor_clicks, t["visitor_clicks"]))
        )
        found.append(("network_burst", w["network_burst"], S.network_burst(click.network_clicks, t["network_burst"])))
        others = sorted(
            names.get(pk, f"partner {pk}") for pk in shared.get(click.visitor_hash, set()) - {subject.partner_id}
        )
        found.append(("shared_visitor", w["shared_visitor"], S.shared_visitor(others)))
    if subject.partner_id in same_account:
        payees = sorted(names.get(pk, f"partner {pk}") for pk in same_account[subject.partner_id])
        found.append(("shared_payout", w["shared_payout"], S.shared_payout(payees)))
    return [(signal, points, text) for signal, points, text in found if text]


def _partner_day(
    partner_id: int, day: date, rule: Rules, days: Daily, memo: dict[Any, Any]
) -> tuple[str | None, str | None]:
    """The refund-rate and spike sentences of one partner on one day (shared by its commissions that day)."""
    key = (partner_id, day, id(rule))
    if key not in memo:
        series = days.partners.get(partner_id)
        refund_text = spike_text = None
        if series is not None:
            t = rule.thresholds
            i = (day - days.start).days  # the window is days i-29 .. i, all within the series
            sales = series.sales[i + 1] - series.sales[i - 29]
            if sales >= S.REFUND_MIN_SALES:
                refund_text = S.refund_rate(
                    sales,
                    series.refunds[i + 1] - series.refunds[i - 29],
                    series.sold[i + 1] - series.sold[i - 29],
                    series.refunded[i + 1] - series.refunded[i - 29],
                    t["refund_rate"],
                )
            if series.daily[i] >= S.SPIKE_MIN_SALES:
                history = [float(n) for n in series.daily[i - 28 : i]]
                spike_text = S.conversion_spike(series.daily[i], history, t["conversion_spike"])
        memo[key] = (refund_text, spike_text)
    return memo[key]


_CLICK_FACTS = f"""
SELECT c.id, c.link_id, c.partner_id, c.visitor_hash, c.ip_hash, c.clicked_at,
       (SELECT count(*) FROM {Click._meta.db_table} v
        WHERE v.link_id = c.link_id AND v.visitor_hash = c.visitor_hash
          AND v.clicked_at >= c.clicked_at - interval '1 day' AND v.clicked_at <= c.clicked_at + interval '1 day'),
       (SELECT count(*) FROM {Click._meta.db_table} n
        WHERE n.partner_id = c.partner_id AND n.ip_hash = c.ip_hash
          AND n.clicked_at >= c.clicked_at - interval '1 hour' AND n.clicked_at <= c.clicked_at + interval '1 hour')
FROM {Click._meta.db_table} c
WHERE c.workspace_id = %s AND c.id = ANY(%s::bigint[])"""


def _click_facts(workspace_id: int, click_pks: set[int], *, now: datetime) -> dict[int, _ClickFacts]:
    found = {pk: _click_cache[(workspace_id, pk)] for pk in click_pks if (workspace_id, pk) in _click_cache}
    wanted = sorted(click_pks - set(found))
    if wanted:
        settled = now - timedelta(days=2)
        if len(_click_cache) > _CLICK_CACHE_MAX:
            _click_cache.clear()
        for pk, link_id, partner_id, visitor, ip, at, visits, network in fetch_rows(
            _CLICK_FACTS, [workspace_id, wanted]
        ):
            facts = _ClickFacts(link_id, partner_id, visitor, ip, at, visits, network)
            found[pk] = facts
            if at < settled:
                _click_cache[(workspace_id, pk)] = facts
    return found


def _shared_visitors(workspace_id: int, clicks: dict[int, _ClickFacts], *, now: datetime) -> dict[str, set[int]]:
    """Visitor hash → every partner whose links it clicked on its day (hashes are salted by day).

    A day more than two days past gets no new clicks (a click's time is when it happened), so what
    was found for its visitors is kept per process, like the click facts: a customer's later sales
    then ask nothing again."""
    settled = (now - timedelta(days=2)).date()
    by_day: dict[date, set[str]] = defaultdict(set)
    found: dict[str, set[int]] = {}
    for click in clicks.values():
        day = click.clicked_at.date()
        known = _visitor_cache.get((workspace_id, day, click.visitor_hash)) if day < settled else None
        if known is None:
            by_day[day].add(click.visitor_hash)
        elif known:
            found[click.visitor_hash] = set(known)
    if not by_day:
        return found
    wanted = sorted(by_day, reverse=True)[:_MAX_VISITOR_DAYS]
    ranges: list[str] = []
    params: list[Any] = [workspace_id]
    for day in wanted:
        ranges.append("(clicked_at >= %s AND clicked_at < %s AND visitor_hash = ANY(%s::text[]))")
        start = datetime.combine(day, datetime.min.time(), tzinfo=next(iter(clicks.values())).clicked_at.tzinfo)
        params += [start, start + timedelta(days=1), sorted(by_day[day])]
    sql = (
        f"SELECT visitor_hash, array_agg(DISTINCT partner_id) FROM {Click._meta.db_table} "
        f"WHERE workspace_id = %s AND ({' OR '.join(ranges)}) GROUP BY visitor_hash HAVING count(DISTINCT partner_id) > 1"
    )
    shared = {visitor: set(partners) for visitor, partners in fetch_rows(sql, params)}
    found.update(shared)
    if len(_visitor_cache) > _CLICK_CACHE_MAX:
        _visitor_cache.clear()
    for day in wanted:
        if day < settled:
            for visitor in by_day[day]:
                _visitor_cache[(workspace_id, day, visitor)] = frozenset(shared.get(visitor, ()))
    return found


def _own_devices(workspace_id: int, partner_ids: set[int], clicks: dict[int, _ClickFacts]) -> set[tuple[int, str]]:
    """(partner, hash) pairs where a winning click's visitor or network is one of the partner's own.

    A partner's portal devices are few; they are read whole and matched here (an IN list of every
    winning click's hashes would cost more than the rows it finds).
    """
    if not clicks:
        return set()
    hashes = {c.visitor_hash for c in clicks.values()} | {c.ip_hash for c in clicks.values()}
    found: set[tuple[int, str]] = set()
    for partner, visitor, ip in PartnerVisit.objects.filter(
        workspace_id=workspace_id, partner_id__in=partner_ids
    ).values_list("partner_id", "visitor_hash", "ip_hash"):
        found |= {(partner, h) for h in (visitor, ip) if h in hashes}
    return found


_MEDIAN = f"""
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM s.converted_at - c.clicked_at)), count(*)
FROM (SELECT converted_at, click_id FROM {Referral._meta.db_table}
      WHERE workspace_id = %s AND program_id = %s AND converted_at IS NOT NULL AND click_id IS NOT NULL
      ORDER BY converted_at DESC LIMIT {_MEDIAN_SAMPLE}) s
JOIN {Click._meta.db_table} c ON c.id = s.click_id
WHERE c.clicked_at <= s.converted_at"""


def _median_seconds(workspace_id: int, program_id: int) -> float | None:
    """The program's median seconds from the winning click to the first sale (recent customers)."""
    key = (workspace_id, program_id)
    cached = _median_cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    rows = fetch_rows(_MEDIAN, [workspace_id, program_id])
    # Too few customers make no yardstick (the sale being judged may be most of them).
    median = float(rows[0][0]) if rows and rows[0][0] is not None and rows[0][1] >= _MEDIAN_MIN else None
    _median_cache[key] = (time.monotonic() + _MEDIAN_TTL, median)
    return median
