"""Attributing the set's new customers: who waits for an earlier event, who won each customer, and
the referrals that win makes (written by referrals.writes)."""

from __future__ import annotations

from django.db.models import Min

from attribution import click_wait, engine
from attribution.engine import CustomerFacts
from attribution.models import InboundEvent
from attribution.processing.facts import load_candidates, load_partners, load_referrals
from attribution.processing.state import Event, Ref, SetState, Status
from referrals.models import Referral
from referrals.services import email_domain
from referrals.writes import NewReferral, bind_deal_referral, create_referrals

_SOURCE = {
    "link": Referral.Source.LINK,
    "code": Referral.Source.CODE,
    "manual": Referral.Source.MANUAL,
    "deal_registration": Referral.Source.DEAL_REGISTRATION,
}


def hold_back_for_earlier_events(
    state: SetState, leads: list[Event], sales: list[Event]
) -> tuple[list[Event], list[Event]]:
    """Leave for later the leads and sales of a new customer while an earlier event of theirs is unprocessed.

    Another worker may be creating that customer's referral right now (uncommitted, so invisible
    here): going ahead would leave this sale unattributed, or let a later lead win the customer.
    Those events stay `received`; they are woken when the earlier event is settled, and retried
    shortly anyway.
    """
    new = {e.customer for e in leads + sales if e.customer and e.customer not in state.refs}
    if not new:
        return leads, sales
    mine = [e.pk for e in state.events]
    first_pending = dict(
        InboundEvent.objects.filter(
            workspace_id=state.ws,
            status=Status.RECEIVED,
            customer_external_id__in=new,
            kind__in=[InboundEvent.Kind.LEAD, InboundEvent.Kind.SALE],
            pk__lt=max(mine),
        )
        .exclude(pk__in=mine)
        .values("customer_external_id")
        .annotate(first=Min("id"))
        .values_list("customer_external_id", "first")
    )
    # Another set may have settled some of these customers after their referrals were read above; its
    # events were still pending then, and are not now. Read their referrals again: what that set
    # made is visible now, and a set still holding an earlier event of theirs is in first_pending.
    load_referrals(state, new)
    if not first_pending:
        return leads, sales

    def go_ahead(event: Event) -> bool:
        earlier = first_pending.get(event.customer)
        if earlier is None or earlier > event.pk:
            return True
        state.outcome(
            event,
            Status.RECEIVED,
            f"Waiting for an earlier event of customer {event.customer}.",
            "waiting_for_customer",
        )
        state.waiting_for_customer.append(event.pk)
        return False

    return [e for e in leads if go_ahead(e)], [e for e in sales if go_ahead(e)]


def attribute_customers(state: SetState, leads: list[Event], sales: list[Event]) -> None:
    """Decide every lead, and every sale of a customer who is not a referral yet; create the referrals won."""
    deciding = leads + [s for s in sales if s.customer not in state.refs]
    found = load_candidates(state, deciding)
    clicks, same_visitor, codes, in_flight = found.clicks, found.same_visitor, found.codes, found.in_flight
    deals_by_email, deals_by_domain = found.deals_by_email, found.deals_by_domain

    won: list[Ref] = []
    waiting_customers: set[str] = set()
    for event in deciding:
        if event.customer in waiting_customers:
            state.outcome(
                event,
                Status.RECEIVED,
                f"Waiting for an earlier event of customer {event.customer}.",
                "waiting_for_customer",
            )
            state.waiting_for_customer.append(event.pk)
            continue
        existing = state.refs.get(event.customer)
        deal = None
        if existing is None and event.email:
            deal = deals_by_email.get(event.email) or deals_by_domain.get(email_domain(event.email))
            if deal is not None and any(r is deal for r in won):
                deal = None  # already claimed by another customer of this set
        click = clicks.get(event.click_id) if event.click_id else None
        facts = CustomerFacts(
            occurred_at=event.occurred_at,
            customer_email=event.email,
            existing=existing.fact() if existing else None,
            deal=deal.fact() if deal else None,
            partner_id=event.partner_id,
            code_text=event.code,
            code=codes.get(event.code.strip().lower()) if event.code else None,
            click_id=event.click_id,
            click=click,
            other_clicks=tuple(same_visitor.get(click.visitor_hash, ())) if click and click.visitor_hash else (),
            click_in_flight=event.click_id in in_flight and click_wait.may_still_wait(event.received_at, state.now),
        )
        decision = engine.decide(facts, partners=state.partners, programs=state.program_facts)
        if decision.reason_code == click_wait.REASON_CODE:
            state.outcome(event, Status.RECEIVED, decision.reason, decision.reason_code)
            state.waiting_for_click.append(event)
            waiting_customers.add(event.customer)
            continue
        state.decisions[event.pk] = decision
        if decision.partner_id is None or decision.source == "existing":  # not attributed, or already a referral
            continue
        won_click = clicks.get(event.click_id) if decision.source == "link" and event.click_id else None
        if won_click is not None and won_click.pk != decision.click_pk:  # the visitor's other click won
            won_click = next(
                (c for c in same_visitor.get(won_click.visitor_hash, ()) if c.pk == decision.click_pk), None
            )
        won_code = codes.get(event.code.strip().lower()) if decision.source == "code" and event.code else None
        ref = Ref(
            pk=deal.pk if decision.source == "deal_registration" and deal else None,
            program_id=decision.program_id or state.partners[decision.partner_id].program_id,
            partner_id=decision.partner_id,
            customer=event.customer,
            source=_SOURCE[decision.source],
            customer_email=event.email,
            click_pk=decision.click_pk,
            click_ip_hash=won_click.ip_hash if won_click else "",
            code_pk=decision.code_pk,
            click_tclid=won_click.click_id if won_click else "",
            clicked_at=won_click.clicked_at if won_click else None,
            code_text=won_code.code if won_code else "",
            referred_at=min(event.occurred_at, state.now),
            deal_registration_id=deal.deal_registration_id if deal and decision.source == "deal_registration" else None,
            protected_until=deal.protected_until if deal and decision.source == "deal_registration" else None,
            created_here=True,
            decision=decision,
        )
        state.refs[event.customer] = ref
        won.append(ref)
    if won:
        save_referrals(state, won)


def save_referrals(state: SetState, won: list[Ref]) -> None:
    """Write the referrals this set's customers won; a customer another worker won first stays theirs."""
    lost: list[str] = []
    plain = []
    for ref in won:
        if ref.source == Referral.Source.DEAL_REGISTRATION:
            if not bind_deal_referral(
                workspace_id=state.ws,
                referral_id=ref.pk or 0,
                customer_external_id=ref.customer,
                customer_email=ref.customer_email,
            ):
                lost.append(ref.customer)
        else:
            plain.append(ref)
    created = create_referrals(
        workspace_id=state.ws,
        rows=[
            NewReferral(
                program_id=r.program_id,
                partner_id=r.partner_id,
                customer_external_id=r.customer,
                source=r.source,
                customer_email=r.customer_email,
                click_id=r.click_pk,
                code_id=r.code_pk,
                created_at=r.referred_at,
            )
            for r in plain
        ],
    )
    for ref in plain:
        pk = created.get((ref.program_id, ref.customer))
        if pk is None:
            lost.append(ref.customer)
        else:
            ref.pk = pk
    if lost:
        # Another worker made these customers referrals first: theirs stands.
        for customer in lost:
            state.refs.pop(customer, None)
        load_referrals(state, lost)
        load_partners(state, (r.partner_id for r in state.refs.values()))
