"""Webhook endpoints and their deliveries. Imported by accounts/models.py, so they are accounts' models.

Both tables key on `(workspace_id, id)` (DESIGN.md, invariants: tables distributable by workspace);
their public ids are strings (`ep_…`, `msg_…`), the delivery's being the `webhook-id` header.
"""

from __future__ import annotations

import json
import secrets

from django.db import models

from accounts.models import TenantManager, Workspace
from core.sealed import unseal


def new_endpoint_id() -> str:
    return "ep_" + secrets.token_hex(12)


def new_delivery_id() -> str:
    return "msg_" + secrets.token_hex(14)


class WebhookEndpoint(models.Model):
    """A URL of the tenant's that hears the events it subscribed to."""

    pk = models.CompositePrimaryKey("workspace_id", "id")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    id = models.CharField(max_length=40, default=new_endpoint_id, editable=False)
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text='The event types it hears, e.g. ["commission.created"]')
    description = models.CharField(max_length=200, blank=True)
    # whsec_ + base64, sealed at rest (core/sealed.py): a database dump must not let anyone forge deliveries.
    secret_sealed = models.TextField()
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True, help_text="Why Tandem stopped sending, if it did")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    @property
    def signing_secret(self) -> str:
        """The `whsec_` secret every delivery is signed with."""
        return unseal(self.secret_sealed)


class WebhookDelivery(models.Model):
    """One event for one endpoint: the body as signed, and how sending it went (latest attempt)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Sending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    pk = models.CompositePrimaryKey("workspace_id", "id")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    id = models.CharField(max_length=40, default=new_delivery_id, editable=False)
    # A composite foreign key (workspace_id, endpoint_id) → the endpoint, ON DELETE CASCADE, made by the
    # migration: Django cannot point a ForeignKey at a composite primary key.
    endpoint_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=40)
    body = models.TextField(help_text="The JSON body exactly as signed and sent")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker sends; a worker killed mid-send leaves it to expire, and the sweep sends again.
    leased_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "endpoint_id", "-created_at"], name="webhookdelivery_ws_endpoint"),
            # The sweep's question, across workspaces: which pending deliveries are due?
            models.Index(
                fields=["next_attempt_at"],
                name="webhookdelivery_due",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id}"

    @property
    def pretty_body(self) -> str:
        """The body indented, for people reading the log (the receiver got it compact)."""
        try:
            return json.dumps(json.loads(self.body), indent=2, ensure_ascii=False)
        except ValueError:
            return self.body
