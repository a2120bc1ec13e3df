"""Writes of a partner import: create it (the preview), start it, and import its rows.

Importing goes row by row, each in its own transaction with the import locked, so the progress page
sees every row as it lands, a bad row never undoes the others, and a task run twice (or resumed after
a worker died) carries on from the first row without a result instead of doing any row again.
Partners are matched by email within the program, so the same file imported twice adds nobody twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import record_audit
from partners.imports.models import PartnerImport
from partners.imports.reading import FileProblem, read_partner_rows
from partners.models import Partner, PartnerGroup, Program
from partners.services.common import require_same_workspace
from partners.services.groups import ensure_group
from partners.services.partners import create_partner

ACTOR_LABEL = "CSV import"


def create_import(
    *,
    workspace: Workspace,
    program: Program,
    data: bytes,
    filename: str,
    by: User | None,
    group: PartnerGroup | None = None,
    invite: bool = False,
) -> PartnerImport:
    """Read the file and keep its rows for the preview; nothing is imported yet."""
    require_same_workspace(workspace, program=program, group=group)
    try:
        rows = read_partner_rows(data)
    except FileProblem as exc:
        raise ValidationError({"file": [str(exc)]}) from exc
    return PartnerImport.objects.create(
        workspace=workspace,
        program=program,
        group=group,
        invite=invite,
        filename=(filename or "partners.csv")[:200],
        created_by=by,
        rows=rows,
    )


def start_import(*, partner_import: PartnerImport, by: User | None) -> PartnerImport:
    """The manager's go-ahead after the preview: queue the import (a second click changes nothing)."""
    with transaction.atomic():
        locked = _locked(partner_import.workspace_id, partner_import.uuid)
        if locked.status != PartnerImport.Status.PREVIEW:
            return locked
        locked.status = PartnerImport.Status.QUEUED
        locked.save(update_fields=["status"])
        record_audit(
            workspace=locked.workspace,
            actor=by,
            action="partners.import_started",
            changes={"import": str(locked.uuid), "file": locked.filename, "rows": locked.total},
        )
        transaction.on_commit(lambda: _enqueue(locked))
    return locked


def _enqueue(partner_import: PartnerImport) -> None:
    from partners.imports.tasks import import_partners  # the task module imports this one

    import_partners.delay(workspace_id=partner_import.workspace_id, import_uuid=str(partner_import.uuid))


def _locked(workspace_id: int, import_uuid: uuid.UUID | str) -> PartnerImport:
    return (
        PartnerImport.objects.select_for_update(of=("self",))
        .select_related("workspace", "program", "group", "created_by")
        .get(workspace_id=workspace_id, uuid=import_uuid)
    )


def run_import(*, workspace_id: int, import_uuid: uuid.UUID | str) -> PartnerImport:
    """Import every row not imported yet, one transaction per row; then mark the import finished."""
    while True:
        with transaction.atomic():
            partner_import = _locked(workspace_id, import_uuid)
            if partner_import.status in (PartnerImport.Status.DONE, PartnerImport.Status.FAILED):
                return partner_import
            if partner_import.started_at is None:
                partner_import.started_at = timezone.now()
            partner_import.status = PartnerImport.Status.RUNNING
            index = partner_import.processed
            if index >= partner_import.total:
                _finish(partner_import)
                return partner_import
            result = _import_row(partner_import, partner_import.rows[index])
            partner_import.results = [*partner_import.results, result]
            counter = {"created": "created_count", "existing": "existing_count"}.get(result["outcome"], "failed_count")
            setattr(partner_import, counter, getattr(partner_import, counter) + 1)
            partner_import.save(update_fields=["status", "started_at", "results", counter])


def _import_row(partner_import: PartnerImport, row: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"line": row["line"], "email": row["email"], "partner_id": None}
    if row.get("errors"):
        return {**result, "outcome": "skipped", "message": " ".join(row["errors"])}
    try:
        with transaction.atomic():
            group = partner_import.group
            if row.get("group"):
                group = ensure_group(
                    workspace=partner_import.workspace, name=row["group"], by=partner_import.created_by
                )
            partner, created = create_partner(
                workspace=partner_import.workspace,
                program=partner_import.program,
                group=group,
                name=row["name"],
                email=row["email"],
                company=row.get("company", ""),
                country=row.get("country", ""),
                external_id=row.get("external_id", ""),
                status=Partner.Status.INVITED if partner_import.invite else Partner.Status.ACTIVE,
                by=partner_import.created_by,
                actor_label=ACTOR_LABEL,
            )
    except ValidationError as exc:
        return {**result, "outcome": "failed", "message": " ".join(exc.messages)}
    if created:
        message = "Invited to the portal by email." if partner_import.invite else ""
        return {**result, "outcome": "created", "message": message, "partner_id": partner.pk}
    return {
        **result,
        "outcome": "existing",
        "message": f"Already a partner in {partner_import.program.name}; left as it was.",
        "partner_id": partner.pk,
    }


def _finish(partner_import: PartnerImport) -> None:
    partner_import.status = PartnerImport.Status.DONE
    partner_import.finished_at = timezone.now()
    partner_import.save(update_fields=["status", "started_at", "finished_at"])
    record_audit(
        workspace=partner_import.workspace,
        actor=partner_import.created_by,
        actor_label=ACTOR_LABEL if partner_import.created_by is None else None,
        action="partners.imported",
        changes={
            "import": str(partner_import.uuid),
            "file": partner_import.filename,
            "created": partner_import.created_count,
            "existing": partner_import.existing_count,
            "not_imported": partner_import.failed_count,
        },
    )


def fail_import(*, workspace_id: int, import_uuid: uuid.UUID | str, reason: str) -> None:
    """Stop an import that cannot go on (the task gave up); what was imported stays."""
    with transaction.atomic():
        partner_import = _locked(workspace_id, import_uuid)
        if partner_import.status in (PartnerImport.Status.DONE, PartnerImport.Status.FAILED):
            return
        partner_import.status = PartnerImport.Status.FAILED
        partner_import.failure = reason[:2000]
        partner_import.finished_at = timezone.now()
        partner_import.save(update_fields=["status", "failure", "finished_at"])
