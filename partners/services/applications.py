"""The public application to a program: a `pending` partner for the managers to review."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.services import record_audit
from partners.models import Partner, Program
from partners.outbound import emit_partner_created
from partners.services.common import find_partner, normalize_email


@transaction.atomic
def apply_to_program(
    *,
    program: Program,
    name: str,
    email: str,
    company: str = "",
    country: str = "",
    website: str = "",
    promotion_plan: str = "",
    accepted_terms: bool = False,
) -> tuple[Partner, bool]:
    """A public application: a `pending` partner for the managers to review.

    Applying twice with the same email changes nothing, and the applicant is told the same thing
    either way, so the page does not reveal who is already a partner.
    """
    if not program.public_applications:
        raise ValidationError("This program is not accepting applications.")
    # A program without terms has nothing to accept.
    if program.terms and not accepted_terms:
        raise ValidationError({"accepted_terms": ["Accept the program terms to apply."]})
    email = normalize_email(email)
    workspace = program.workspace
    existing = find_partner(workspace, program, email)
    if existing is not None:
        return existing, False
    partner = Partner(
        workspace=workspace,
        program=program,
        name=(name or "").strip(),
        email=email,
        company=(company or "").strip(),
        country=(country or "").strip().upper(),
        website=(website or "").strip(),
        promotion_plan=(promotion_plan or "").strip(),
        status=Partner.Status.PENDING,
        terms_accepted_at=timezone.now() if program.terms else None,
    )
    partner.full_clean(exclude=["workspace", "program", "group"], validate_constraints=False)
    try:
        with transaction.atomic():
            partner.save()
    except IntegrityError:
        existing = find_partner(workspace, program, email)
        if existing is None:
            raise
        return existing, False
    record_audit(
        workspace=workspace,
        actor=None,
        actor_label=f"applicant {email}",
        action="partner.applied",
        target=partner,
        changes={"program": [None, program.name]},
    )
    emit_partner_created(partner)
    return partner, True
