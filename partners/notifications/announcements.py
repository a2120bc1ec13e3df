"""Announcements: a manager writes to every partner or one group; partners read them on the portal
home (newest first, until they close them) and by email if they want announcements."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html_join, urlize
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User, Workspace
from core.text import unusable_character
from partners.models import Partner, PartnerGroup
from partners.notifications.models import Announcement, AnnouncementDismissal, Kind
from partners.notifications.sending import NotifyItem, notify_partners

# The portal home shows the newest few of the last three months.
SHOWN_ON_HOME = 3
SHOWN_FOR = timedelta(days=90)
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def render_body(body: str) -> SafeString:
    """Plain text to safe HTML: blank lines make paragraphs, **bold**, web addresses become links."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body.replace("\r\n", "\n")) if p.strip()]
    rendered = []
    for paragraph in paragraphs:
        html = urlize(paragraph, nofollow=True, autoescape=True)
        html = _BOLD.sub(r"<strong>\1</strong>", html).replace("\n", "<br>")
        rendered.append((mark_safe(html),))  # escaped by urlize above, then only tags we add
    return format_html_join("", "<p>{}</p>", rendered)


def _check(title: str, body: str) -> None:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Give the announcement a title."
    if not body.strip():
        errors["body"] = "Write what you want to tell your partners."
    for name, value in (("title", title), ("body", body)):
        problem = unusable_character(value)
        if problem:
            errors[name] = problem
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def publish_announcement(
    *, workspace: Workspace, title: str, body: str, group: PartnerGroup | None, by: User | None
) -> Announcement:
    """Publish to every active partner (or one group's): on their portal home now, by email after the commit."""
    from accounts.services import record_audit

    _check(title, body)
    if group is not None and group.workspace_id != workspace.pk:
        raise ValidationError({"group": "Choose one of this workspace's groups."})
    partners = Partner.objects.for_workspace(workspace).filter(status=Partner.Status.ACTIVE)
    if group is not None:
        partners = partners.filter(group=group)
    partner_ids = list(partners.values_list("pk", flat=True))
    announcement = Announcement.objects.create(
        uuid=uuid.uuid4(),
        workspace=workspace,
        group=group,
        audience_label=f"The {group.name} group" if group else "All partners",
        title=title.strip(),
        body=body.strip(),
        created_by=by,
        created_by_label=by.email if by else "system",
        recipients=len(partner_ids),
    )
    details = {"title": announcement.title, "body": announcement.body, "uuid": str(announcement.uuid)}
    notify_partners(
        workspace_id=workspace.pk,
        kind=Kind.ANNOUNCEMENT,
        items=[NotifyItem(partner_id=pk, object_key=str(announcement.uuid), details=details) for pk in partner_ids],
        statuses=(Partner.Status.ACTIVE,),
    )
    record_audit(
        workspace=workspace,
        actor=by,
        action="announcement.published",
        target=announcement,
        changes={"title": announcement.title, "audience": announcement.audience_label, "partners": len(partner_ids)},
    )
    return announcement


def announcements_for(partner: Partner, *, limit: int = SHOWN_ON_HOME) -> list[Announcement]:
    """What the partner's portal home shows: its audience's recent announcements it has not closed."""
    closed = AnnouncementDismissal.objects.filter(workspace_id=partner.workspace_id, partner_id=partner.pk).values(
        "announcement_uuid"
    )
    audience = Q(group__isnull=True)
    if partner.group_id:
        audience |= Q(group_id=partner.group_id)
    rows = Announcement.objects.for_workspace(partner.workspace).filter(
        audience, created_at__gte=timezone.now() - SHOWN_FOR
    )
    return list(rows.exclude(uuid__in=closed).order_by("-created_at")[:limit])


def dismiss_announcement(*, partner: Partner, announcement_uuid: uuid.UUID) -> bool:
    """The partner closes an announcement meant for it; False if there is no such announcement for it."""
    exists = Announcement.objects.for_workspace(partner.workspace).filter(uuid=announcement_uuid).exists()
    if not exists:
        return False
    AnnouncementDismissal.objects.get_or_create(
        workspace_id=partner.workspace_id, announcement_uuid=announcement_uuid, partner_id=partner.pk
    )
    return True
