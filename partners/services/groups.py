"""Writes of partner groups (tiers such as Agencies or Gold)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User, Workspace
from accounts.services import record_audit
from partners.models import PartnerGroup


def _check_group_name(workspace: Workspace, name: str, *, excluding: PartnerGroup | None = None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the group a name."]})
    clash = PartnerGroup.objects.for_workspace(workspace).filter(name__iexact=name)
    if excluding is not None:
        clash = clash.exclude(pk=excluding.pk)
    if clash.exists():
        raise ValidationError({"name": [f"There is already a group called “{name}”."]})
    return name


@transaction.atomic
def create_group(*, workspace: Workspace, name: str, by: User | None) -> PartnerGroup:
    group = PartnerGroup.objects.create(workspace=workspace, name=_check_group_name(workspace, name))
    record_audit(workspace=workspace, actor=by, action="partner_group.created", target=group)
    return group


def ensure_group(*, workspace: Workspace, name: str, by: User | None) -> PartnerGroup:
    """The group with this name (any case), created if missing; for seeds and imports."""
    existing = PartnerGroup.objects.for_workspace(workspace).filter(name__iexact=name.strip()).first()
    return existing or create_group(workspace=workspace, name=name, by=by)


@transaction.atomic
def rename_group(*, group: PartnerGroup, name: str, by: User | None) -> PartnerGroup:
    name = _check_group_name(group.workspace, name, excluding=group)
    if name != group.name:
        before = group.name
        group.name = name
        group.save(update_fields=["name"])
        record_audit(
            workspace=group.workspace,
            actor=by,
            action="partner_group.renamed",
            target=group,
            changes={"name": [before, name]},
        )
    return group
