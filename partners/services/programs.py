"""Writes of programs: the Default program every workspace has, and the programs managers add."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from accounts.destinations import first_verified_root, validate_destination
from accounts.models import User, Workspace
from accounts.services import record_audit
from partners.models import Program
from partners.services.common import apply_changes, audit_value

DEFAULT_PROGRAM_SLUG = "default"
DEFAULT_PROGRAM_NAME = "Default"

PROGRAM_FIELDS = (
    "name",
    "currency",
    "attribution_window_days",
    "attribution_model",
    "hold_days",
    "minimum_payout",
    "requires_tax_form",
    "deal_protection_days",
    "public_applications",
    "terms",
    "report_frequency",
    "default_destination",
)


def landing_page(*, program: Program) -> str | None:
    """Where the program's default links land: its default destination, else the home page of the
    workspace's first verified domain; None while the workspace has no verified domain."""
    return program.default_destination or first_verified_root(workspace=program.workspace)


def _clean_destination(workspace: Workspace, fields: dict[str, Any]) -> None:
    if "default_destination" not in fields:
        return
    raw = (fields["default_destination"] or "").strip()
    try:
        fields["default_destination"] = validate_destination(workspace=workspace, url=raw) if raw else ""
    except ValidationError as exc:
        raise ValidationError({"default_destination": exc.messages}) from exc


@transaction.atomic
def ensure_default_program(*, workspace: Workspace) -> Program:
    """The workspace's Default program, created on first use. Safe to call any number of times."""
    program, created = Program.objects.get_or_create(
        workspace=workspace, slug=DEFAULT_PROGRAM_SLUG, defaults={"name": DEFAULT_PROGRAM_NAME}
    )
    if created:
        record_audit(workspace=workspace, actor=None, actor_label="system", action="program.created", target=program)
    return program


def _unique_program_slug(workspace: Workspace, name: str) -> str:
    base = slugify(name)[:50] or "program"
    slug, n = base, 2
    while Program.objects.for_workspace(workspace).filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def create_program(
    *, workspace: Workspace, by: User | None, name: str, actor_label: str | None = None, **fields: Any
) -> Program:
    """A new program; its URL slug comes from the name and never changes afterwards (application links use it)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the program a name."]})
    if isinstance(fields.get("currency"), str):
        fields["currency"] = fields["currency"].strip().upper()
    _clean_destination(workspace, fields)
    program = Program(workspace=workspace, name=name, slug=_unique_program_slug(workspace, name))
    apply_changes(program, fields, PROGRAM_FIELDS)
    program.full_clean(exclude=["workspace"])
    program.save()
    record_audit(
        workspace=workspace,
        actor=by,
        actor_label=actor_label,
        action="program.created",
        target=program,
        changes={f: [None, audit_value(getattr(program, f))] for f in PROGRAM_FIELDS},
    )
    return program


@transaction.atomic
def update_program(*, program: Program, by: User | None, actor_label: str | None = None, **fields: Any) -> Program:
    """Change a program's settings; the audit entry lists each changed field as [before, after]."""
    if "currency" in fields and isinstance(fields["currency"], str):
        fields["currency"] = fields["currency"].strip().upper()
    _clean_destination(program.workspace, fields)
    changes = apply_changes(program, fields, PROGRAM_FIELDS)
    if not changes:
        return program
    program.full_clean(exclude=["workspace"])
    program.save(update_fields=list(changes))
    record_audit(
        workspace=program.workspace,
        actor=by,
        actor_label=actor_label,
        action="program.updated",
        target=program,
        changes=changes,
    )
    return program
