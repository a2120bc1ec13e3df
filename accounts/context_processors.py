from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import Membership


def workspaces(request: HttpRequest) -> dict[str, Any]:
    """The signed-in person's workspaces, for the switcher in the top bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships() -> list[Membership]:
        return list(
            Membership.objects.across_workspaces("a person's own memberships")
            .filter(user=user)
            .select_related("workspace")
            .order_by("workspace__name")
        )

    return {"my_memberships": memberships, "current_workspace": getattr(request, "workspace", None)}
