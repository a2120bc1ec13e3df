"""Changing a partner's payout method: sealed, audited with masked values only, and announced to the
partner by email so a change it did not make does not go unnoticed."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import record_audit, send_templated_email
from core.sealed import seal
from partners.models import Partner, PayoutMethod
from partners.payout_methods import PayoutMethodDetails, row_details
from partners.payout_methods.details import clean_payout_fields, details_of


@transaction.atomic
def set_payout_method(
    *,
    partner: Partner,
    method_type: str,
    fields: dict[str, Any],
    by: User | None,
    actor_label: str | None = None,
    by_partner: bool = False,
    notify: bool = True,
) -> PayoutMethodDetails:
    """Make `method_type` with `fields` the partner's payout method; raises ValidationError naming the field.

    Sending the method already on file changes nothing: no audit entry, no email. `notify=False`
    (the demo seed) skips the partner's email, not the audit entry.
    """
    cleaned = clean_payout_fields(method_type, fields)
    # Lock the partner: two changes at once are applied one after the other, each audited against the last.
    list(Partner.objects.for_workspace(partner.workspace).select_for_update().filter(pk=partner.pk).values_list("pk"))
    row = PayoutMethod.objects.filter(workspace_id=partner.workspace_id, partner_id=partner.pk).first()
    before = row_details(row) if row is not None else None
    after = details_of(method_type, cleaned)
    if before is not None and (before.type, before.fields) == (after.type, after.fields):
        return before
    PayoutMethod.objects.update_or_create(
        workspace_id=partner.workspace_id,
        partner_id=partner.pk,
        defaults={
            "type": method_type,
            "sealed_details": seal(json.dumps(cleaned, sort_keys=True)),
            "updated_at": timezone.now(),
        },
    )
    record_audit(
        workspace=partner.workspace,
        actor=by,
        actor_label=actor_label,
        action="partner.payout_method_changed",
        target=partner,
        changes={"payout_method": [before.label if before else None, after.label]},
    )
    if notify:
        transaction.on_commit(lambda: _announce_change(partner, after, by_partner=by_partner))
    return after


def _announce_change(partner: Partner, method: PayoutMethodDetails, *, by_partner: bool) -> None:
    send_templated_email(
        to=partner.email,
        subject="Your payout details changed",
        template="partners/email/payout_method_changed",
        context={"partner": partner, "method": method, "by_partner": by_partner, "changed_at": timezone.now()},
        from_business=partner.workspace,
    )
