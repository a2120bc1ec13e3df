"""What the partners app's writes share: input checks, applying a form's changes with their audit trail,
and the partner-row helpers that several flows use."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.models import User, Workspace
from accounts.services import record_audit
from partners.models import Partner, Program

# Bank details are not for everyone who can read the audit log: the log says they changed, not to what.
_SECRET_FIELDS = frozenset({"payout_details"})


def audit_value(value: Any) -> Any:
    """A value as it can be stored in the audit log's JSON."""
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return str(value)
    return value


def apply_changes(obj: Any, data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    """Set the given fields on `obj`; return `{field: [before, after]}` for those that changed."""
    changes: dict[str, list[Any]] = {}
    for field in fields:
        if field not in data:
            continue
        before, after = getattr(obj, field), data[field]
        if isinstance(after, str):
            # Browsers post textareas with CRLF; without this every save would "change" the terms.
            after = after.replace("\r\n", "\n")
        if before != after:
            setattr(obj, field, after)
            if field in _SECRET_FIELDS:
                changes[field] = ["(hidden)", "(changed)"]
            else:
                changes[field] = [audit_value(before), audit_value(after)]
    return changes


def normalize_email(raw: str) -> str:
    email = (raw or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": ["Enter a valid email address, such as jo@example.com."]}) from exc
    return email


def require_same_workspace(workspace: Workspace, **rows: Any) -> None:
    # Callers resolve rows through workspace-scoped lookups; this is the last line of defence.
    for field, row in rows.items():
        if row is not None and row.workspace_id != workspace.pk:
            raise ValidationError({field: ["Not found in this workspace."]})


def find_partner(workspace: Workspace, program: Program, email: str) -> Partner | None:
    return Partner.objects.for_workspace(workspace).filter(program=program, email__iexact=email).first()


def set_status(
    partner: Partner,
    status: str,
    *,
    by: User | None,
    action: str,
    extra: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> None:
    before = partner.status
    partner.status = status
    partner.save(update_fields=["status", "rejection_reason", "updated_at"])
    record_audit(
        workspace=partner.workspace,
        actor=by,
        actor_label=actor_label,
        action=action,
        target=partner,
        changes={"status": [before, status], **(extra or {})},
    )
