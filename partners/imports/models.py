"""One CSV import of partners. Keyed on workspace first (DESIGN.md, invariants): the program, group and
user it names have no database constraint (their keys leave workspace_id out), only Django's cascade."""

from __future__ import annotations

import uuid

from django.db import models

from accounts.models import TenantManager, User, Workspace
from partners.models import PartnerGroup, Program


class PartnerImport(models.Model):
    class Status(models.TextChoices):
        PREVIEW = "preview", "Waiting for your go-ahead"
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Finished"
        FAILED = "failed", "Stopped"

    pk = models.CompositePrimaryKey("workspace_id", "uuid")
    uuid = models.UUIDField(default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    group = models.ForeignKey(
        PartnerGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    invite = models.BooleanField(default=False, help_text="Email each new partner an invitation to the portal")
    filename = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PREVIEW)
    # [{"line", "name", "email", "company", "country", "group", "external_id", "errors": [...]}, …]
    rows = models.JSONField(default=list)
    # One entry per row imported so far, in order: {"line", "outcome", "message", "partner_id"}.
    results = models.JSONField(default=list)
    created_count = models.PositiveIntegerField(default=0)
    existing_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, help_text="Why the whole import stopped, if it did")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["workspace", "created_at"], name="partnerimport_ws_created")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def processed(self) -> int:
        return len(self.results)

    @property
    def percent(self) -> int:
        return 100 if not self.rows else round(100 * self.processed / self.total)

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def bad_rows(self) -> list[dict]:
        return [row for row in self.rows if row.get("errors")]
