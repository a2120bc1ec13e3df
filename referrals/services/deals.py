"""Deal registrations: submission, conflict notes, review, decision mail and expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import record_audit, send_templated_email
from core.iso import CURRENCIES
from partners.models import Partner
from referrals.models import DealRegistration, Referral
from referrals.outbound import emit_referrals_created, referral_data
from referrals.services._common import _check_partner
from referrals.services.customers import email_domain


def find_deal_conflicts(
    *, workspace: Workspace, program_id: int, email: str, domain: str, company: str, exclude_id: int | None = None
) -> list[str]:
    """Sentences for the reviewer: who already holds this customer (referred, or registered)."""
    notes: list[str] = []
    now = timezone.now()
    customer = Q(customer_email=email)
    if domain:
        customer |= Q(customer_domain=domain)
    referrals = (
        Referral.objects.for_workspace(workspace)
        .filter(customer, program_id=program_id)
        .exclude(stage=Referral.Stage.EXPIRED)
        .select_related("partner")
        .order_by("created_at")
    )
    deals = _open_deals_for(workspace=workspace, program_id=program_id, email=email, domain=domain, company=company)
    if exclude_id is not None:
        referrals = referrals.exclude(deal_registration_id=exclude_id)
        deals = deals.exclude(pk=exclude_id)
    for referral in referrals[:3]:
        who = referral.customer_email or referral.customer_domain
        protected = (
            f", protected until {referral.protected_until:%d %b %Y}"
            if referral.protected_until and referral.protected_until > now
            else ""
        )
        notes.append(
            f"{who} is already a referral of {referral.partner.name} (since {referral.created_at:%d %b %Y}{protected})."
        )
    for deal in deals[:3]:
        notes.append(
            f"{deal.company} was registered by {deal.partner.name} on {deal.created_at:%d %b %Y} "
            f"({deal.get_status_display().lower()})."
        )
    return notes


def _open_deals_for(
    *, workspace: Workspace, program_id: int, email: str, domain: str, company: str
) -> QuerySet[DealRegistration]:
    """Registrations awaiting review or approved that name the same customer (contact, company or domain)."""
    match = Q(contact_email__iexact=email) | Q(company__iexact=company.strip())
    if domain:
        match |= Q(company_domain=domain)
    return (
        DealRegistration.objects.for_workspace(workspace)
        .filter(
            match,
            program_id=program_id,
            status__in=[DealRegistration.Status.SUBMITTED, DealRegistration.Status.APPROVED],
        )
        .select_related("partner")
        .order_by("created_at")
    )


def _flag_earlier_deals(deal: DealRegistration) -> None:
    """A conflict concerns both deals: the earlier ones learn of the later one too, so whichever the
    manager opens first shows it."""
    earlier = _open_deals_for(
        workspace=deal.workspace,
        program_id=deal.program_id,
        email=deal.contact_email,
        domain=deal.company_domain,
        company=deal.company,
    ).exclude(pk=deal.pk)
    note = (
        f"{deal.company} was registered again by {deal.partner.name} on {deal.created_at:%d %b %Y} "
        f"({deal.get_status_display().lower()})."
    )
    for other in earlier.select_for_update(of=("self",)):
        other.conflict_note = f"{other.conflict_note}\n{note}".strip()
        other.save(update_fields=["conflict_note"])


def _clean_money(value: Decimal | str, currency: str) -> tuple[Decimal, str]:
    errors: dict[str, str] = {}
    try:
        if isinstance(value, float):
            raise TypeError  # money never passes through a float
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        errors["estimated_value"] = "Enter an amount such as 12000 or 12000.50."
        amount = Decimal("0")
    else:
        if amount != amount.quantize(Decimal("0.01")):
            errors["estimated_value"] = "Use at most two decimal places."
        elif amount < 0:
            errors["estimated_value"] = "The estimated value cannot be negative."
        elif amount >= Decimal("1e12"):
            errors["estimated_value"] = "That amount is too large."
    currency = (currency or "").strip().upper()
    if currency not in CURRENCIES:
        errors["currency"] = f"“{currency}” is not an ISO 4217 currency code, such as USD or EUR."
    if errors:
        raise ValidationError(errors)
    return amount, currency


@transaction.atomic
def submit_deal_registration(
    *,
    workspace: Workspace,
    partner: Partner,
    company: str,
    contact_name: str,
    contact_email: str,
    estimated_value: Decimal | str,
    currency: str,
    notes: str = "",
    submitted_by: User | None = None,
) -> DealRegistration:
    """A partner registers a lead; Tandem notes any conflict for the manager who reviews it."""
    _check_partner(workspace, partner)
    errors: dict[str, str] = {}
    company, contact_name, email = company.strip(), contact_name.strip(), contact_email.strip().lower()
    if not company:
        errors["company"] = "Enter the customer's company."
    if not contact_name:
        errors["contact_name"] = "Enter the name of your contact there."
    if "@" not in email:
        errors["contact_email"] = "Enter the contact's email address."
    try:
        amount, currency = _clean_money(estimated_value, currency)
    except ValidationError as exc:
        errors.update({field: messages[0] for field, messages in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    domain = email_domain(email)
    conflicts = find_deal_conflicts(
        workspace=workspace, program_id=partner.program_id, email=email, domain=domain, company=company
    )
    deal = DealRegistration.objects.create(
        workspace=workspace,
        program_id=partner.program_id,
        partner=partner,
        company=company,
        contact_name=contact_name,
        contact_email=email,
        company_domain=domain,
        estimated_value=amount,
        currency=currency,
        notes=notes.strip(),
        conflict_note="\n".join(conflicts),
        submitted_by=submitted_by,
    )
    _flag_earlier_deals(deal)
    record_audit(
        workspace=workspace,
        actor=submitted_by,
        action="deal_registration.submitted",
        target=deal,
        changes={"partner": partner.name, "conflict": bool(conflicts)},
    )
    return deal


def _require_submitted(deal: DealRegistration) -> None:
    if deal.status != DealRegistration.Status.SUBMITTED:
        raise ValidationError(f"This registration is already {deal.get_status_display().lower()}.")


@transaction.atomic
def approve_deal_registration(
    *, deal: DealRegistration, by: User, reason: str = "", notify_partner: bool = True
) -> Referral:
    """Approve: the customer becomes the partner's referral, protected for the program's deal protection days."""
    deal = (
        DealRegistration.objects.for_workspace(deal.workspace)
        .select_for_update()
        .select_related("program", "partner")
        .get(pk=deal.pk)
    )
    _require_submitted(deal)
    now = timezone.now()
    protected_until = now + timedelta(days=deal.program.deal_protection_days)
    referral = Referral.objects.create(
        workspace_id=deal.workspace_id,
        program_id=deal.program_id,
        partner_id=deal.partner_id,
        customer_email=deal.contact_email,
        customer_name=deal.company,
        customer_domain=deal.company_domain,
        source=Referral.Source.DEAL_REGISTRATION,
        deal_registration=deal,
        protected_until=protected_until,
    )
    emit_referrals_created(
        deal.workspace_id,
        [
            referral_data(
                referral_id=referral.pk,
                partner_id=deal.partner_id,
                program_id=deal.program_id,
                customer_external_id="",
                source=referral.source,
                created_at=referral.created_at,
            )
        ],
    )
    deal.status = DealRegistration.Status.APPROVED
    deal.reason, deal.decided_by, deal.decided_at, deal.expires_at = reason.strip(), by, now, protected_until
    deal.save(update_fields=["status", "reason", "decided_by", "decided_at", "expires_at"])
    record_audit(
        workspace=deal.workspace,
        actor=by,
        action="deal_registration.approved",
        target=deal,
        changes={"protected_until": protected_until.date().isoformat()},
    )
    if notify_partner:
        transaction.on_commit(lambda: send_deal_decision(deal))
    return referral


@transaction.atomic
def reject_deal_registration(
    *, deal: DealRegistration, by: User, reason: str, notify_partner: bool = True
) -> DealRegistration:
    """Reject with a reason the partner will read."""
    deal = (
        DealRegistration.objects.for_workspace(deal.workspace)
        .select_for_update()
        .select_related("partner")
        .get(pk=deal.pk)
    )
    _require_submitted(deal)
    if not reason.strip():
        raise ValidationError({"reason": "Tell the partner why; they will see this reason."})
    deal.status = DealRegistration.Status.REJECTED
    deal.reason, deal.decided_by, deal.decided_at = reason.strip(), by, timezone.now()
    deal.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    record_audit(workspace=deal.workspace, actor=by, action="deal_registration.rejected", target=deal)
    if notify_partner:
        transaction.on_commit(lambda: send_deal_decision(deal))
    return deal


def send_deal_decision(deal: DealRegistration) -> None:
    approved = deal.status == DealRegistration.Status.APPROVED
    context = {
        "deal": deal,
        "approved": approved,
        "workspace": deal.workspace,
        "url": settings.SITE_URL + reverse("portal_deals", args=[deal.workspace.slug]),
    }
    verdict = "approved" if approved else "not approved"
    send_templated_email(
        to=deal.partner.email,
        subject=f"Your deal registration for {deal.company} was {verdict}",
        template="referrals/email/deal_decision",
        context=context,
        from_business=deal.workspace,
    )


def expire_deal_registrations(*, now: datetime | None = None) -> int:
    """End the protection of approved registrations whose customer never bought; returns how many."""
    now = now or timezone.now()
    expired = 0
    due = (
        DealRegistration.objects.across_workspaces("beat: expiring deals of every workspace")
        .filter(status=DealRegistration.Status.APPROVED, expires_at__lte=now)
        .exclude(referral__stage=Referral.Stage.CUSTOMER)
    )
    # Across all workspaces on purpose: this runs from beat, and each row is handled in its own workspace.
    for deal_id in due.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            deal = (
                DealRegistration.objects.across_workspaces("beat: expiring deals of every workspace")
                .select_for_update()
                .filter(pk=deal_id, status=DealRegistration.Status.APPROVED)
                .first()
            )
            if deal is None:
                continue
            referral = Referral.objects.filter(workspace_id=deal.workspace_id, deal_registration=deal).first()
            if referral is not None and referral.stage == Referral.Stage.CUSTOMER:
                continue  # converted: the customer is the partner's for good
            deal.status = DealRegistration.Status.EXPIRED
            deal.save(update_fields=["status"])
            if referral is not None:
                referral.stage = Referral.Stage.EXPIRED
                referral.save(update_fields=["stage"])
            record_audit(
                workspace=deal.workspace,
                actor=None,
                actor_label="system",
                action="deal_registration.expired",
                target=deal,
            )
            expired += 1
    return expired
