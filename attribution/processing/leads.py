"""The set's leads: each settled as attributed or not, and a lead reward where the rule pays one."""

from __future__ import annotations

from attribution.engine import Decision
from attribution.models import Commission
from attribution.processing.commissions import add_commission, rule_explanation
from attribution.processing.facts import load_rules, rule_for
from attribution.processing.state import Event, Ref, SetState, Status
from attribution.rewards import round_money


def record_leads(state: SetState, leads: list[Event]) -> None:
    if not leads:
        return
    load_rules(state, {r.program_id for r in state.refs.values() if r.created_here and r.pk})
    for event in leads:
        decision = state.decisions[event.pk]
        ref = state.refs.get(event.customer)
        if not decision.attributed:
            state.outcome(event, Status.UNATTRIBUTED, decision.reason, decision.reason_code)
            continue
        if ref is None or ref.decision is not decision or not ref.created_here or ref.pk is None:
            who = state.partners[ref.partner_id].name if ref and ref.partner_id in state.partners else "another partner"
            state.outcome(
                event, Status.ATTRIBUTED, f"Already a referral of {who}; nothing new to credit.", "existing_referral"
            )
            continue
        state.outcome(event, Status.ATTRIBUTED)
        _lead_reward(state, event, ref, decision)


def _lead_reward(state: SetState, event: Event, ref: Ref, decision: Decision) -> None:
    rule = rule_for(state, ref.program_id, ref.partner_id, event.occurred_at)
    if rule is None:
        return
    terms = state.terms[rule.pk]
    if terms.lead_amount <= 0:
        return
    program = state.programs[ref.program_id]
    amount = round_money(terms.lead_amount, program.currency)
    explanation = {
        "attribution": decision.explanation,
        "reward_rule": rule_explanation(state, rule, program),
        "calculation": f"{terms.name}: {amount} {program.currency} per new referral",
        "lead": {"event_id": event.event_id, "occurred_at": event.occurred_at.isoformat()},
    }
    add_commission(
        state,
        kind=Commission.Kind.LEAD,
        ref=ref,
        conversion_id=None,
        rule=rule,
        program=program,
        amount=amount,
        occurred_at=event.occurred_at,
        decision=decision,
        explanation=explanation,
        memo=f"Lead {event.event_id}",
    )
