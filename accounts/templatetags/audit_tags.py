from __future__ import annotations

from django import template

from accounts.audit_labels import action_label, change_lines

register = template.Library()


@register.filter
def audit_action(action: str) -> str:
    """`{{ entry.action|audit_action }}`: "Payout details changed" instead of the stored dotted name."""
    return action_label(str(action or ""))


@register.filter
def audit_changes(changes: dict[str, object] | None) -> list[str]:
    """`{% for line in entry.changes|audit_changes %}`: "role: viewer → manager", not a Python list."""
    return change_lines(changes if isinstance(changes, dict) else None)
