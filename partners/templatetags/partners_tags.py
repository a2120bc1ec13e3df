from __future__ import annotations

from django import template

from accounts.models import Workspace
from partners import selectors

register = template.Library()


@register.simple_tag
def pending_application_count(workspace: Workspace) -> int:
    """For the nav badge: one indexed count per staff page (workspace, status)."""
    return selectors.pending_application_count(workspace=workspace)
