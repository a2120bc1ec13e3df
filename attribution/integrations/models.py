"""Models of the integrations: a workspace's Stripe and HubSpot settings, and CSV imports.

They live in their own module so the integrations can change without touching the engine's
models; attribution/models/__init__.py imports them, which is where Django looks for them.
"""

from __future__ import annotations

from django.db import models

from accounts.models import TenantManager, User, Workspace

DEFAULT_HUBSPOT_CLOSED_WON_STAGES = ["closedwon"]


def _default_closed_won_stages() -> list[str]:
    return list(DEFAULT_HUBSPOT_CLOSED_WON_STAGES)


class IntegrationSettings(models.Model):
    """How a workspace's Stripe account and HubSpot app sign what they send us.

    The secrets are kept as given: verifying a signature needs the secret itself, so a hash
    would not do. Pages and the API only ever say whether one is set.
    """

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="integration_settings")
    stripe_signing_secret = models.CharField(
        max_length=255, blank=True, help_text="The webhook endpoint's signing secret, whsec_…"
    )
    stripe_secret_set_at = models.DateTimeField(null=True, blank=True)
    # The API secret key pays partners (Stripe Transfers), so it is sealed (core/sealed.py), never shown back.
    stripe_secret_key_sealed = models.TextField(blank=True, help_text="The Stripe secret key, sk_…, sealed")
    stripe_secret_key_set_at = models.DateTimeField(null=True, blank=True)
    hubspot_app_id = models.CharField(max_length=40, blank=True)
    hubspot_client_secret = models.CharField(max_length=255, blank=True)
    hubspot_secret_set_at = models.DateTimeField(null=True, blank=True)
    hubspot_closed_won_stages = models.JSONField(
        default=_default_closed_won_stages,
        blank=True,
        help_text="Deal stage ids that mean the deal is won; HubSpot's default pipeline uses closedwon.",
    )
    hubspot_default_currency = models.CharField(
        max_length=3, blank=True, help_text="For deals whose payload names no currency; empty: the program's currency."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = TenantManager()

    class Meta:
        verbose_name_plural = "integration settings"

    def __str__(self) -> str:
        return f"Integrations of {self.workspace}"

    @property
    def stripe_connected(self) -> bool:
        return bool(self.stripe_signing_secret)

    @property
    def stripe_secret_key_set(self) -> bool:
        return bool(self.stripe_secret_key_sealed)

    @property
    def hubspot_connected(self) -> bool:
        return bool(self.hubspot_client_secret)


def _import_upload_path(instance: CsvImport, filename: str) -> str:
    # Named by content, inside the workspace's folder: two workspaces never share a path.
    return f"imports/{instance.workspace_id}/{instance.file_sha256}.csv"


class CsvImport(models.Model):
    """One uploaded CSV of leads or sales and the progress of turning its rows into inbound events.

    A file is imported once per workspace (`file_sha256`); its rows become events whose ids are
    `csv:<sha256>:<row>`, so even a replayed job cannot count a row twice.
    """

    class Kind(models.TextChoices):
        LEADS = "leads", "Leads"
        SALES = "sales", "Sales"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Waiting for column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="csv_imports")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    file = models.FileField(upload_to=_import_upload_path, max_length=255)
    original_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField(default=0)
    delimiter = models.CharField(max_length=1, default=",")
    headers = models.JSONField(default=list, blank=True, help_text="The file's column names, in order")
    mapping = models.JSONField(default=dict, blank=True, help_text="Tandem field -> column name")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    # "Rows" are the file's non-blank data lines; processed = accepted + duplicate + error, always.
    total_rows = models.PositiveIntegerField(null=True, blank=True, help_text="Data lines, counted when the job starts")
    processed_rows = models.PositiveIntegerField(default=0)
    accepted_rows = models.PositiveIntegerField(default=0)
    duplicate_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list,
        blank=True,
        help_text="The first rows that could not be imported: [{row, column, message}], capped; error_rows counts all.",
    )
    failure_reason = models.TextField(blank=True)
    # What the sweeper watches: an import in queued or running whose progress_at is old lost its
    # worker or its task, and is sent again; one that stalls too often in a row is failed instead.
    progress_at = models.DateTimeField(
        null=True, blank=True, help_text="Last chunk committed, run started or sent again"
    )
    runs_without_progress = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "file_sha256"], name="csvimport_file_unique_per_workspace"),
        ]
        indexes = [models.Index(fields=["workspace", "created_at"], name="csvimport_ws_created")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_kind_display().lower()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent_done(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)

    @property
    def unread_rows(self) -> int:
        """Lines of the file not yet imported, already in Tandem or reported."""
        return max(0, (self.total_rows or 0) - self.processed_rows)

    @property
    def status_tone(self) -> str:
        tones: dict[str, str] = {
            self.Status.DONE: "ok",
            self.Status.FAILED: "bad",
            self.Status.RUNNING: "brand",
            self.Status.QUEUED: "brand",
            self.Status.UPLOADED: "warn",
        }
        return tones.get(self.status, "")
