"""Template tags of fraud review for pages other apps own (the navigation)."""

from __future__ import annotations

from typing import Any

from django import template

from attribution.fraud.review import held_commissions

register = template.Library()


@register.simple_tag
def held_commission_count(workspace: Any) -> int:
    """Commissions waiting in the review queue (shown beside its link)."""
    return held_commissions(workspace).count()
