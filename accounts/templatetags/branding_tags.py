"""`{% brand_of workspace as brand %}`: the workspace's white label for a template (accounts/branding.py)."""

from __future__ import annotations

from django import template

from accounts.branding import Brand
from accounts.branding import brand_of as _brand_of
from accounts.models import Workspace

register = template.Library()


@register.simple_tag
def brand_of(workspace: Workspace) -> Brand:
    return _brand_of(workspace)


@register.simple_tag(takes_context=True)
def email_brand(context: template.Context) -> Brand | None:
    """The brand of the business an email is from: the context's `brand`, else that of the workspace
    of whatever the email is about (a workspace, an invitation, a partner, a deal, a statement)."""
    if context.get("brand"):
        brand: Brand = context["brand"]
        return brand
    for name in ("workspace", "invitation", "partner", "deal", "statement"):
        value = context.get(name)
        workspace = value if isinstance(value, Workspace) else getattr(value, "workspace", None)
        if isinstance(workspace, Workspace):
            return _brand_of(workspace)
    return None
