from __future__ import annotations

from django import template

from accounts.models import Workspace
from partners import reward_text, selectors
from partners.models import Partner

register = template.Library()


@register.simple_tag
def pending_application_count(workspace: Workspace) -> int:
    """For the nav badge: one indexed count per staff page (workspace, status)."""
    return selectors.pending_application_count(workspace=workspace)


@register.simple_tag
def partner_reward(partner: Partner) -> str:
    """What the partner earns, in words (its group's override included), for pages where it decides to join."""
    return reward_text.reward_sentence(partner.program, partner.group)


@register.filter
def partner_status_label(value: str | None) -> str:
    """A stored status ("active") as the page says it ("Active"); an empty one means the partner was new."""
    if not value:
        return "New"
    return str(Partner.Status(value).label) if value in Partner.Status.values else str(value)
