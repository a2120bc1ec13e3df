"""Loading the facts a set is judged on: programs, referrals, partners, reward rules, exchange rates,
and the clicks, codes and registered deals its new customers name. A handful of queries per set."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower

from attribution import click_wait, engine
from attribution.engine import ClickFact, CodeFact, PartnerFact, ProgramFact, RuleFact
from attribution.models import ExchangeRate, RewardRule
from attribution.processing.state import Event, ProgramInfo, Ref, SetState
from attribution.rules import ensure_default_reward_rules, terms_of
from core.arrays import text_array
from core.sql import fetch_rows
from partners.models import Partner, Program
from referrals.models import Click, DealRegistration, Referral, ReferralCode
from referrals.services import email_domain

REFERRAL_VALUES = (
    "id",
    "program_id",
    "partner_id",
    "customer_external_id",
    "source",
    "customer_email",
    "click_id",
    "click__ip_hash",
    "click__click_id",
    "click__clicked_at",
    "code_id",
    "code__code",
    "deal_registration_id",
    "protected_until",
    "converted_at",
    "created_at",
)
# The customers' referrals, columns as REFERRAL_VALUES, in SQL: read through the ORM, their times
# would be loaded by Django's pure-Python loader (see core.sql).
_SELECT_REFERRALS = f"""
SELECT r.id, r.program_id, r.partner_id, r.customer_external_id, r.source, r.customer_email, r.click_id, c.ip_hash,
       c.click_id, c.clicked_at, r.code_id, k.code, r.deal_registration_id, r.protected_until, r.converted_at,
       r.created_at
FROM {Referral._meta.db_table} r
LEFT JOIN {Click._meta.db_table} c ON c.id = r.click_id
LEFT JOIN {ReferralCode._meta.db_table} k ON k.id = r.code_id
WHERE r.workspace_id = %s AND r.customer_external_id = ANY(%s::text[])
ORDER BY r.created_at DESC, r.id DESC"""
_CLICK_VALUES = (
    "id",
    "click_id",
    "partner_id",
    "link__program_id",
    "clicked_at",
    "ip_hash",
    "visitor_hash",
    "is_bot",
    "earns_credit",
)


def _click_fact(row: dict[str, Any]) -> ClickFact:
    return ClickFact(
        pk=row["id"],
        click_id=row["click_id"],
        partner_id=row["partner_id"],
        program_id=row["link__program_id"],
        clicked_at=row["clicked_at"],
        ip_hash=row["ip_hash"],
        visitor_hash=row["visitor_hash"],
        is_bot=row["is_bot"],
        earns_credit=row["earns_credit"],
    )


def load_programs(state: SetState) -> None:
    for row in Program.objects.filter(workspace_id=state.ws).values(
        "id", "name", "currency", "hold_days", "attribution_window_days", "attribution_model"
    ):
        state.programs[row["id"]] = ProgramInfo(
            pk=row["id"],
            name=row["name"],
            currency=row["currency"],
            hold_days=row["hold_days"],
            fact=ProgramFact(pk=row["id"], window_days=row["attribution_window_days"], model=row["attribution_model"]),
        )
    state.program_facts = {pk: p.fact for pk, p in state.programs.items()}


def load_referrals(state: SetState, customers: Iterable[str]) -> None:
    wanted = [c for c in customers if c]
    if not wanted:
        return
    # The oldest referral of a customer wins when several programs know them.
    for row in fetch_rows(_SELECT_REFERRALS, [state.ws, text_array(wanted)]):
        state.refs[row[3]] = Ref.of(row)


def load_partners(state: SetState, ids: Iterable[int]) -> None:
    wanted = {pk for pk in ids if pk is not None and pk not in state.partners}
    if not wanted:
        return
    labels = dict(Partner.Status.choices)
    for row in Partner.objects.filter(workspace_id=state.ws, pk__in=wanted).values(
        "id", "program_id", "name", "email", "status", "group_id"
    ):
        state.partners[row["id"]] = PartnerFact(
            pk=row["id"],
            program_id=row["program_id"],
            name=row["name"],
            email=row["email"],
            status=str(labels.get(row["status"], row["status"])).lower(),
            earns=row["status"] == Partner.Status.ACTIVE,
            group_id=row["group_id"],
        )


def load_rules(state: SetState, program_ids: Iterable[int]) -> None:
    ids = set(program_ids) - {r.program_id for r in state.rules}
    if not ids:
        return
    ensure_default_reward_rules(workspace_id=state.ws, program_ids=ids)
    for row in RewardRule.objects.filter(workspace_id=state.ws, program_id__in=ids).values(
        "id",
        "program_id",
        "group_id",
        "rule_key",
        "version",
        "effective_from",
        "name",
        "sale_type",
        "sale_value",
        "duration",
        "duration_months",
        "lead_amount",
        "cap_per_customer",
        "min_sale_amount",
    ):
        state.rules.append(
            RuleFact(
                pk=row["id"],
                program_id=row["program_id"],
                group_id=row["group_id"],
                rule_key=str(row["rule_key"]),
                version=row["version"],
                effective_from=row["effective_from"],
            )
        )
        state.terms[row["id"]] = terms_of(row)


def rule_for(state: SetState, program_id: int, partner_id: int, at: datetime) -> RuleFact | None:
    partner = state.partners.get(partner_id)
    return engine.select_rule(state.rules, program_id=program_id, group_id=partner.group_id if partner else None, at=at)


def load_rates(state: SetState, keys: set[tuple[Any, str, str]]) -> dict[tuple[Any, str, str], Decimal]:
    """(day, from currency, to currency) → the workspace's exchange rate, for those it has."""
    if not keys:
        return {}
    rows = ExchangeRate.objects.filter(
        workspace_id=state.ws,
        date__in={k[0] for k in keys},
        from_currency__in={k[1] for k in keys},
        to_currency__in={k[2] for k in keys},
    ).values_list("date", "from_currency", "to_currency", "rate")
    return {(d, f, t): rate for d, f, t, rate in rows}


@dataclass
class Candidates:
    """What the deciding events name or match: their clicks (and the same visitors' other clicks), codes,
    and approved registered deals by email and by company domain."""

    clicks: dict[str, ClickFact] = field(default_factory=dict)
    same_visitor: dict[str, list[ClickFact]] = field(default_factory=lambda: defaultdict(list))
    codes: dict[str, CodeFact] = field(default_factory=dict)
    deals_by_email: dict[str, Ref] = field(default_factory=dict)
    deals_by_domain: dict[str, Ref] = field(default_factory=dict)
    # Click ids not in PostgreSQL yet that may still be in the click buffer.
    in_flight: set[str] = field(default_factory=set)


def load_candidates(state: SetState, deciding: list[Event]) -> Candidates:
    """The clicks, codes and deals the events being decided could be credited to, and their partners."""
    found = Candidates()
    clicks, same_visitor = found.clicks, found.same_visitor
    click_ids = {e.click_id for e in deciding if e.click_id}
    if click_ids:
        for row in Click.objects.filter(workspace_id=state.ws, click_id__in=click_ids).values(*_CLICK_VALUES):
            clicks[row["click_id"]] = _click_fact(row)
        if missing := click_ids - clicks.keys():
            found.in_flight = click_wait.clicks_in_flight(missing)
            # A click the flusher stored after the read above is behind its mark now: read again.
            for row in Click.objects.filter(workspace_id=state.ws, click_id__in=missing - found.in_flight).values(
                *_CLICK_VALUES
            ):
                clicks[row["click_id"]] = _click_fact(row)
        visitors = {c.visitor_hash for c in clicks.values() if c.visitor_hash}
        if visitors:
            longest = max((p.fact.window_days for p in state.programs.values()), default=90)
            since = min(e.occurred_at for e in deciding) - timedelta(days=longest)
            for row in (
                Click.objects.filter(workspace_id=state.ws, visitor_hash__in=visitors, clicked_at__gte=since)
                .exclude(click_id__in=click_ids)
                .values(*_CLICK_VALUES)[:10000]
            ):
                same_visitor[row["visitor_hash"]].append(_click_fact(row))
    code_texts = {e.code.strip().lower() for e in deciding if e.code}
    if code_texts:
        for row in (
            ReferralCode.objects.filter(workspace_id=state.ws)
            .annotate(lowered=Lower("code"))
            .filter(lowered__in=code_texts)
            .values("id", "code", "lowered", "partner_id", "program_id", "archived_at")
        ):
            found.codes[row["lowered"]] = CodeFact(
                pk=row["id"],
                code=row["code"],
                partner_id=row["partner_id"],
                program_id=row["program_id"],
                active=row["archived_at"] is None,
            )
    emails = {e.email for e in deciding if e.email}
    if emails:
        domains = {d for d in (email_domain(e) for e in emails) if d}
        match = Q(customer_email__in=emails) | (Q(customer_domain__in=domains) if domains else Q(pk__in=[]))
        for row in (
            Referral.objects.filter(
                workspace_id=state.ws,
                source=Referral.Source.DEAL_REGISTRATION,
                customer_external_id="",
                deal_registration__status=DealRegistration.Status.APPROVED,
            )
            .exclude(stage=Referral.Stage.EXPIRED)
            .filter(match)
            .order_by("-created_at")
            .values_list(*REFERRAL_VALUES)
        ):
            ref = Ref.of(row)
            if ref.customer_email:
                found.deals_by_email[ref.customer_email] = ref
            domain = email_domain(ref.customer_email) if ref.customer_email else ""
            if domain:
                found.deals_by_domain.setdefault(domain, ref)
    load_partners(
        state,
        [c.partner_id for c in clicks.values()]
        + [c.partner_id for cs in same_visitor.values() for c in cs]
        + [c.partner_id for c in found.codes.values()]
        + [e.partner_id for e in deciding if e.partner_id]
        + [
            r.partner_id
            for r in (*found.deals_by_email.values(), *found.deals_by_domain.values(), *state.refs.values())
        ],
    )
    return found
