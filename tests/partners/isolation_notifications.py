"""Partner notifications' part of the partners isolation registry (see tests/isolation.py)."""

from __future__ import annotations

from accounts.models import Workspace

FOREIGN_PARAMS = {
    "announcement_uuid": lambda workspace: _announcement(workspace),
}

PUBLIC_ROUTES = {
    "notification_unsubscribe": "guarded by the signed token in the URL, which names the partner and the kind",
}


def _announcement(workspace: Workspace) -> str:
    from partners.notifications.announcements import publish_announcement

    return str(publish_announcement(workspace=workspace, title="Foreign", body="Not yours.", group=None, by=None).uuid)
