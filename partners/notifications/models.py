"""Rows of partner notifications: each partner's choices, each email sent (or to send), announcements.

Every table keys on `workspace_id` first (DESIGN.md, invariants): a key naming a partner, a group or a
user alone would leave it out, so those references have no database constraint (Django still cascades).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from accounts.models import TenantManager, User, Workspace
from partners.models import Partner, PartnerGroup


class Kind(models.TextChoices):
    """What a partner may be told about; each can be turned off on its own."""

    NEW_REFERRAL = "new_referral", "A new referral"
    NEW_COMMISSION = "new_commission", "A new commission"
    STATEMENT_ISSUED = "statement_issued", "A statement is issued"
    PAYOUT_MADE = "payout_made", "A payout is made"
    ANNOUNCEMENT = "announcement", "Announcements"
    WEEKLY_DIGEST = "weekly_digest", "A weekly summary"


class NotificationPreference(models.Model):
    """A partner's choice of emails. No row means the defaults: everything but the weekly summary."""

    pk = models.CompositePrimaryKey("workspace_id", "partner_id")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    new_referral = models.BooleanField(default=True)
    new_commission = models.BooleanField(default=True)
    statement_issued = models.BooleanField(default=True)
    payout_made = models.BooleanField(default=True)
    announcement = models.BooleanField(default=True)
    weekly_digest = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"Email choices of partner {self.partner_id}"


class Notification(models.Model):
    """One email to one partner about one thing. Its key makes a retry or a second event harmless:
    a (workspace, partner, kind, object) is inserted once and sent once (`sent_at`)."""

    pk = models.CompositePrimaryKey("workspace_id", "partner_id", "kind", "object_key")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    object_key = models.CharField(max_length=64, help_text="What it is about: a referral id, a week, …")
    # What the email says, frozen when the event happened (the apps above partners fill it in).
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set instead of sent_at when the email was not sent (the partner opted out meanwhile, no address).
    skipped = models.CharField(max_length=80, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "created_at"],
                name="notification_unsent",
                condition=Q(sent_at__isnull=True, skipped=""),
            ),
            # A partner's waiting rows of one kind, told in one email: without it, settling them reads
            # every row the partner was ever told of that kind.
            models.Index(
                fields=["workspace", "partner", "kind"],
                name="notification_partner_unsent",
                condition=Q(sent_at__isnull=True, skipped=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_key} → partner {self.partner_id}"


class Announcement(models.Model):
    """A message from the program's managers to all partners or one group: on the portal and by email."""

    pk = models.CompositePrimaryKey("workspace_id", "uuid")
    uuid = models.UUIDField(default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    group = models.ForeignKey(
        PartnerGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        help_text="Empty: every partner",
    )
    audience_label = models.CharField(max_length=120, help_text="Who it went to, kept if the group is renamed")
    title = models.CharField(max_length=160)
    body = models.TextField(help_text="Plain text; blank lines start paragraphs, **bold** and links work")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    created_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0, help_text="Partners it was addressed to")

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="announcement_ws_created")]

    def __str__(self) -> str:
        return self.title


class AnnouncementDismissal(models.Model):
    """A partner closed an announcement on its portal home."""

    pk = models.CompositePrimaryKey("workspace_id", "announcement_uuid", "partner_id")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    announcement_uuid = models.UUIDField()
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    dismissed_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.announcement_uuid} closed by partner {self.partner_id}"
