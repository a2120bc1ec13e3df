"""Signed unsubscribe links: anyone holding the email can turn that kind off, without signing in.

The token names the workspace, the partner and the kind, signed with SECRET_KEY; it does not expire,
since an old email's unsubscribe link must still work.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from partners.notifications.models import Kind

_SALT = "partners.notifications.unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    workspace_id: int
    partner_id: int
    kind: str


def unsubscribe_token(*, workspace_id: int, partner_id: int, kind: str) -> str:
    return signing.dumps([workspace_id, partner_id, Kind(kind).value], salt=_SALT, compress=True)


def unsubscribe_url(*, workspace_id: int, partner_id: int, kind: str) -> str:
    token = unsubscribe_token(workspace_id=workspace_id, partner_id=partner_id, kind=kind)
    return settings.SITE_URL.rstrip("/") + reverse("notification_unsubscribe", args=[token])


def read_token(token: str) -> Unsubscribe | None:
    """What a token unsubscribes from, or None if it was not made by us (or names no known kind)."""
    try:
        workspace_id, partner_id, kind = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if kind not in Kind.values or not isinstance(workspace_id, int) or not isinstance(partner_id, int):
        return None
    return Unsubscribe(workspace_id=workspace_id, partner_id=partner_id, kind=kind)
