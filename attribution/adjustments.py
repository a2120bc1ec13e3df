"""What a manager adds by hand: a one-off bonus for a partner, and the credit of an event nobody was
credited for.

A bonus is a commission of kind `manual` (no customer, no rule, only its description) with its own
ledger entry; from there it lives like any commission: pending, approved, on a statement, paid.

Crediting an event does not write a commission itself: the customer becomes the partner's referral
(source `manual`, dated when the event happened) and the event goes back to the processor, which
credits it under the reward rules like any sale of a referral.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import record_audit
from attribution.ledger import post_entry
from attribution.models import Commission, InboundEvent, LedgerEntry
from attribution.notify import tell_partners_of_commissions
from attribution.outbound import emit_commissions
from attribution.services import retry_events
from core.currency import CURRENCIES
from core.money import excess_places
from partners.models import Partner
from referrals.models import Referral
from referrals.writes import NewReferral, create_referrals

MAX_DESCRIPTION = 255


class EventNotAssignable(Exception):
    """The event cannot be credited by hand (already credited, or not a lead or sale): a conflict."""


def _actor(by: User | None, actor_label: str | None) -> str:
    return actor_label or (by.email if by else "system")


def bonus_reason(*, workspace: Workspace, description: str) -> str:
    """How the partner reads a bonus."""
    return f"Bonus from {workspace.name}: {description}"


@transaction.atomic
def add_manual_commission(
    *,
    workspace: Workspace,
    partner: Partner,
    amount: Decimal,
    currency: str,
    description: str,
    by: User | None,
    actor_label: str | None = None,
    request_key: str = "",
) -> tuple[Commission, bool]:
    """Give a partner a one-off bonus. Returns (commission, created).

    With `request_key` (the page's form token), the same submission twice is one bonus. The bonus
    is due at once (no hold: a manager decided it) and is approved like any commission.
    """
    description = " ".join(description.split())
    currency = currency.strip().upper()
    errors: dict[str, list[str]] = {}
    if not description:
        errors["description"] = ["Say what the bonus is for; the partner reads it."]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [f"Keep it to {MAX_DESCRIPTION} characters."]
    if currency not in CURRENCIES:
        errors["currency"] = [f"“{currency}” is not an ISO 4217 currency code, such as USD."]
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        errors["amount"] = ["Enter an amount above zero, such as 50.00."]
    elif amount >= Decimal("1e12"):
        errors["amount"] = ["That amount is too large."]
    elif currency in CURRENCIES and (problem := excess_places(amount, currency)):
        errors["amount"] = [problem]
    if partner.workspace_id != workspace.pk:
        errors["partner"] = ["There is no such partner in this workspace."]
    if errors:
        raise ValidationError(errors)
    if request_key:
        earlier = (
            Commission.objects.for_workspace(workspace)
            .filter(partner=partner, kind=Commission.Kind.MANUAL, explanation__request_key=request_key)
            .first()
        )
        if earlier is not None:
            return earlier, False
    now = timezone.now()
    reason = bonus_reason(workspace=workspace, description=description)
    commission = Commission.objects.create(
        workspace=workspace,
        program_id=partner.program_id,
        partner=partner,
        kind=Commission.Kind.MANUAL,
        description=description,
        amount=amount,
        currency=currency,
        occurred_at=now,
        hold_until=now,
        created_at=now,
        explanation={
            "manual": {"reason": reason, "added_by": _actor(by, actor_label)},
            **({"request_key": request_key} if request_key else {}),
        },
    )
    post_entry(
        workspace=workspace,
        partner=partner,
        kind=LedgerEntry.Kind.COMMISSION_EARNED,
        amount=amount,
        currency=currency,
        reference=f"commission:{commission.pk}",
        memo=reason[:255],
    )
    record_audit(
        workspace=workspace,
        actor=by,
        actor_label=_actor(by, actor_label),
        action="commission.manual_added",
        target=commission,
        changes={"partner": partner.pk, "amount": f"{amount:f}", "currency": currency, "description": description},
    )
    emit_commissions(workspace.pk, "commission.created", [commission.pk])
    tell_partners_of_commissions(
        workspace_id=workspace.pk,
        commissions=[
            {
                "id": commission.pk,
                "partner_id": partner.pk,
                "amount": amount,
                "currency": currency,
                "explanation": commission.explanation,
            }
        ],
    )
    return commission, True


@dataclass(frozen=True)
class Assignment:
    event: InboundEvent
    referral: Referral
    created: bool


ASSIGNABLE_KINDS = (InboundEvent.Kind.LEAD, InboundEvent.Kind.SALE)


@transaction.atomic
def assign_event_to_partner(
    *, workspace: Workspace, event: InboundEvent, partner: Partner, by: User | None, actor_label: str | None = None
) -> Assignment:
    """Credit an unattributed lead or sale to a partner: its customer becomes the partner's referral
    and the event is attributed again (by the workers, right after this commits).

    Raises EventNotAssignable when the event is not an unattributed lead or sale, or its customer
    is already another partner's referral; ValidationError when the partner cannot earn.
    """
    event = InboundEvent.objects.for_workspace(workspace).select_for_update().get(pk=event.pk)
    if event.kind not in ASSIGNABLE_KINDS:
        raise EventNotAssignable(f"Only a lead or a sale can be credited to a partner; this is a {event.kind}.")
    if event.status != InboundEvent.Status.UNATTRIBUTED:
        raise EventNotAssignable(
            f"This event is {event.get_status_display().lower()}, not unattributed: "
            "only events nobody was credited for can be assigned."
        )
    if partner.workspace_id != workspace.pk:
        raise ValidationError({"partner_id": ["There is no such partner in this workspace."]})
    if not partner.earns:
        raise ValidationError(
            {"partner_id": [f"{partner.name} is {partner.get_status_display().lower()}; only active partners earn."]}
        )
    customer = event.customer_external_id or str(event.payload.get("customer_external_id") or "")
    if not customer:
        raise EventNotAssignable("This event names no customer, so there is no one to credit.")
    existing = (
        Referral.objects.for_workspace(workspace)
        .filter(program_id=partner.program_id, customer_external_id=customer)
        .select_related("partner")
        .first()
    )
    if existing is not None and existing.partner_id != partner.pk:
        raise EventNotAssignable(
            f"Customer {customer} is already a referral of {existing.partner.name}; "
            "an event of theirs cannot be credited to another partner."
        )
    created = False
    if existing is None:
        occurred = event.payload.get("occurred_at")
        made = create_referrals(
            workspace_id=workspace.pk,
            rows=[
                NewReferral(
                    program_id=partner.program_id,
                    partner_id=partner.pk,
                    customer_external_id=customer,
                    source=Referral.Source.MANUAL,
                    customer_email=str(event.payload.get("customer_email") or ""),
                    created_at=min(_parse_time(occurred), timezone.now()) if occurred else None,
                )
            ],
        )
        created = bool(made)
        existing = Referral.objects.for_workspace(workspace).get(
            program_id=partner.program_id, customer_external_id=customer
        )
        if existing.partner_id != partner.pk:  # another request made the customer a referral meanwhile
            raise EventNotAssignable(f"Customer {customer} became a referral of another partner meanwhile.")
    retry_events(workspace=workspace, ids=[event.pk], by=None)
    record_audit(
        workspace=workspace,
        actor=by,
        actor_label=_actor(by, actor_label),
        action="inbound_event.assigned",
        target=event,
        changes={"event_id": event.event_id, "partner": partner.pk, "customer": customer, "referral": existing.pk},
    )
    event.refresh_from_db()
    return Assignment(event=event, referral=existing, created=created)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)
