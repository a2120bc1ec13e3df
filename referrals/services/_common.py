"""Checks shared by the referrals write services."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from accounts.models import User, Workspace
from partners.models import Partner


def _check_partner(workspace: Workspace, partner: Partner) -> None:
    # Callers load the partner through the workspace; this guards the service against a slip.
    if partner.workspace_id != workspace.pk:
        raise ValidationError({"partner": "No partner with this id in this workspace."})
    if partner.status == Partner.Status.REJECTED:
        raise ValidationError(
            {"partner": f"{partner.name}'s application was rejected; they cannot get links or codes."}
        )


def _actor_label(actor: User | None, actor_label: str | None) -> str | None:
    return actor_label or (actor.email if actor else None)
