"""The set's sales: each owed to a partner becomes a conversion (in the program's currency), marks
its customer's first purchase, and earns what the reward rule gives, within the customer's cap."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from attribution import engine
from attribution.engine import CustomerFacts, Decision, PartnerFact, ReferralFact
from attribution.models import Commission, Conversion
from attribution.processing.commissions import add_commission, rule_explanation
from attribution.processing.facts import load_rates, load_rules, rule_for
from attribution.processing.state import Event, Ref, SaleLine, SetState, Status
from attribution.rewards import Award, round_money, sale_reward
from core.sql import insert_rows
from referrals.models import Referral
from referrals.writes import mark_referrals_converted


def record_sales(state: SetState, sales: list[Event]) -> None:
    lines: list[SaleLine] = []
    missing_rates: dict[tuple[Any, str, str], list[Event]] = defaultdict(list)
    needed_rates = {
        (e.occurred_at.date(), e.currency, state.programs[state.refs[e.customer].program_id].currency)
        for e in sales
        if e.customer in state.refs
        and state.refs[e.customer].pk
        and state.refs[e.customer].program_id in state.programs
        and e.currency != state.programs[state.refs[e.customer].program_id].currency
    }
    rates = load_rates(state, needed_rates)
    for event in sales:
        ref = state.refs.get(event.customer)
        decision = state.decisions.get(event.pk)
        if ref is None or ref.pk is None:
            if decision is None or decision.reason_code == "no_partner":
                decision = Decision(
                    partner_id=None,
                    reason_code="no_partner",
                    reason=f"Customer {event.customer} is not any partner's referral, and the sale "
                    f"names no click or referral code.",
                )
            state.outcome(event, Status.UNATTRIBUTED, decision.reason, decision.reason_code)
            continue
        if decision is None or ref.decision is not decision or not decision.attributed:
            # A referral's later sales are all decided alike (stickiness): once per customer and email.
            key = (event.customer, event.email)
            decision = state.existing_decisions.get(key)
            if decision is None:
                decision = state.existing_decisions[key] = _existing_decision(state, ref, event)
        if not decision.attributed:
            state.outcome(event, Status.UNATTRIBUTED, decision.reason, decision.reason_code)
            continue
        program = state.programs[ref.program_id]
        assert event.amount is not None
        amount, original, rate = event.amount, None, None
        if event.currency != program.currency:
            rate = rates.get((event.occurred_at.date(), event.currency, program.currency))
            if rate is None:
                missing_rates[(event.occurred_at.date(), event.currency, program.currency)].append(event)
                continue
            original = event.amount
            amount = round_money(event.amount * rate, program.currency)
        lines.append(
            SaleLine(
                event=event,
                ref=ref,
                decision=decision,
                program=program,
                amount=amount,
                original_amount=original,
                fx_rate=rate,
            )
        )
    for (day, source, target), events in missing_rates.items():
        for event in events:
            state.outcome(
                event,
                Status.UNATTRIBUTED,
                f"No exchange rate {source}→{target} for {day:%Y-%m-%d}. Add one under Exchange rates "
                f"and the sale is processed again.",
                "no_exchange_rate",
            )
    if not lines:
        return
    _insert_sale_conversions(state, lines)
    lines = [line for line in lines if line.conversion_id is not None]
    if not lines:
        return
    load_rules(state, {line.ref.program_id for line in lines})
    for line in lines:
        line.rule = rule_for(state, line.ref.program_id, line.ref.partner_id, line.event.occurred_at)
    first_sale = _mark_first_sales(state, lines)
    earned = _earned_so_far(state, lines)
    for line in lines:
        _sale_commission(state, line, first_sale, earned)


# A known customer's decision is a function of its referral, that referral's partner and the email the
# sale names (engine.decide's `existing` branch reads nothing else), so it is kept per process across
# sets, keyed by those facts themselves: a customer's next sale reuses the decision, and the encoding
# of its explanation (commissions._encode_explanation). Bounded like the fraud scorer's caches.
_DECISIONS: dict[tuple[ReferralFact, PartnerFact | None, str], Decision] = {}
_DECISIONS_MAX = 20_000


def _existing_decision(state: SetState, ref: Ref, event: Event) -> Decision:
    fact = ref.fact()
    key = (fact, state.partners.get(fact.partner_id), event.email)
    decision = _DECISIONS.get(key)
    if decision is None:
        if len(_DECISIONS) >= _DECISIONS_MAX:
            _DECISIONS.clear()
        decision = _DECISIONS[key] = engine.decide(
            CustomerFacts(occurred_at=event.occurred_at, customer_email=event.email, existing=fact),
            partners=state.partners,
            programs=state.program_facts,
        )
    return decision


def _insert_sale_conversions(state: SetState, lines: list[SaleLine]) -> None:
    rows = [
        {
            "workspace_id": state.ws,
            "program_id": line.ref.program_id,
            "referral_id": line.ref.pk,
            "partner_id": line.ref.partner_id,
            "kind": Conversion.Kind.SALE,
            "event_id": line.event.event_id,
            "processor_ref": line.event.processor_ref,
            "amount": line.amount,
            "currency": line.program.currency,
            "original_amount": line.original_amount,
            "original_currency": line.event.currency if line.original_amount is not None else "",
            "fx_rate": line.fx_rate,
            "occurred_at": line.event.occurred_at,
            "sale_id": None,
            "created_at": state.now,
        }
        for line in lines
    ]
    # A conflict can only be the processor's id: the same sale already came by another route. Without
    # processor ids there can be none (each event id is one locked inbox row), and a plain INSERT
    # skips PostgreSQL's speculative insertion, a second pass over the unique indexes for every row.
    may_conflict = any(line.event.processor_ref for line in lines)
    inserted = {
        event_id: pk
        for pk, event_id in insert_rows(Conversion, rows, ignore_conflicts=may_conflict, returning=("id", "event_id"))
    }
    duplicates = [line for line in lines if line.event.event_id not in inserted]
    originals = {}
    if duplicates:
        originals = dict(
            Conversion.objects.filter(
                workspace_id=state.ws, processor_ref__in={line.event.processor_ref for line in duplicates}
            ).values_list("processor_ref", "event_id")
        )
    for line in lines:
        line.conversion_id = inserted.get(line.event.event_id)
        if line.conversion_id is None:
            ref = line.event.processor_ref
            state.outcome(
                line.event,
                Status.DUPLICATE,
                f"Same sale as event {originals.get(ref, 'in this batch')} ({ref}); counted once.",
                "duplicate_sale",
            )


def _mark_first_sales(state: SetState, lines: list[SaleLine]) -> dict[int, int]:
    """Referral id → the conversion that is the customer's first sale, for the referrals it is."""
    firsts: dict[int, SaleLine] = {}
    for line in lines:  # already in occurred_at order
        if line.ref.converted_at is None and line.ref.saved_pk not in firsts:
            firsts[line.ref.saved_pk] = line
    capped = {
        line.ref.saved_pk
        for line in lines
        if line.rule is not None
        and (state.terms[line.rule.pk].cap_per_customer is not None or state.terms[line.rule.pk].duration == "one_time")
    }
    lock = sorted(set(firsts) | capped)
    if lock:
        # One ordered lock per customer whose first sale or cap is at stake: concurrent sets of the same
        # customers wait for each other here, in id order, so they never deadlock.
        current = dict(
            Referral.objects.filter(workspace_id=state.ws, pk__in=lock)
            .select_for_update()
            .order_by("id")
            .values_list("id", "converted_at")
        )
        for pk, converted_at in current.items():
            if converted_at is not None:
                firsts.pop(pk, None)
                for line in lines:
                    if line.ref.pk == pk:
                        line.ref.converted_at = converted_at
    done = mark_referrals_converted(
        workspace_id=state.ws, first_sales={pk: line.event.occurred_at for pk, line in firsts.items()}
    )
    result: dict[int, int] = {}
    for pk, line in firsts.items():
        if pk in done:
            assert line.conversion_id is not None  # record_sales keeps only the lines it inserted
            line.ref.converted_at = line.event.occurred_at
            result[pk] = line.conversion_id
    return result


def _earned_so_far(state: SetState, lines: list[SaleLine]) -> dict[tuple[int, str], Decimal]:
    capped = {
        line.ref.saved_pk
        for line in lines
        if line.rule is not None and state.terms[line.rule.pk].cap_per_customer is not None
    }
    earned: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    if capped:
        rows = (
            Commission.objects.filter(workspace_id=state.ws, referral_id__in=capped, kind=Commission.Kind.SALE)
            .exclude(status=Commission.Status.REJECTED)
            .values("referral_id", "reward_rule__rule_key")
            .annotate(total=Sum("amount"), back=Sum("reversed_amount"))
        )
        for row in rows:
            earned[(row["referral_id"], str(row["reward_rule__rule_key"]))] = row["total"] - row["back"]
    return earned


def _sale_commission(
    state: SetState, line: SaleLine, first_sale: dict[int, int], earned: dict[tuple[int, str], Decimal]
) -> None:
    event, ref, program, rule = line.event, line.ref, line.program, line.rule
    if rule is None:
        state.outcome(
            event,
            Status.ATTRIBUTED,
            f"No reward rule of {program.name} was in effect on "
            f"{event.occurred_at:%Y-%m-%d}, so the sale earns nothing.",
            "no_reward_rule",
        )
        return
    terms = state.terms[rule.pk]
    key = (ref.pk or 0, rule.rule_key)
    result = sale_reward(
        terms,
        sale_amount=line.amount,
        currency=program.currency,
        occurred_at=event.occurred_at,
        customer_first_sale_at=ref.converted_at or event.occurred_at,
        is_first_sale=first_sale.get(ref.pk or 0) == line.conversion_id,
        earned_for_customer=earned[key],
    )
    if not isinstance(result, Award):
        state.outcome(event, Status.ATTRIBUTED, result.reason, "no_commission")
        return
    earned[key] += result.amount
    state.outcome(event, Status.ATTRIBUTED)
    sale = {
        "event_id": event.event_id,
        "amount": str(line.amount),
        "currency": program.currency,
        "occurred_at": event.occurred_at.isoformat(),
    }
    if line.original_amount is not None:
        sale.update(
            original_amount=str(line.original_amount), original_currency=event.currency, fx_rate=str(line.fx_rate)
        )
    explanation = {
        "attribution": line.decision.explanation,
        "reward_rule": rule_explanation(state, rule, program),
        # The amounts only: the rule's own description is under reward_rule.
        "calculation": result.explanation.rpartition(" — ")[2],
        "sale": sale,
    }
    add_commission(
        state,
        kind=Commission.Kind.SALE,
        ref=ref,
        conversion_id=line.conversion_id,
        rule=rule,
        program=program,
        amount=result.amount,
        occurred_at=event.occurred_at,
        decision=line.decision,
        explanation=explanation,
        memo=f"Sale {event.event_id}",
        customer_email=event.email,
    )
