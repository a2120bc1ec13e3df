from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower

from accounts.domains import display_domain, new_verification_token, verification_value
from accounts.scoping import check_scoped

if TYPE_CHECKING:
    pass


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with an email address; staff or partner, per workspace."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # Users are created by email, not username: this manager is not Django's UserManager, which is
    # what AbstractUser declares `objects` to be (the stubs give no way to narrow it otherwise).
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


_M = TypeVar("_M", bound=models.Model)


class TenantQuerySet(models.QuerySet[_M]):
    """Querysets of tenant rows are narrowed by workspace before anything else: while a request or a
    task is served, one that names no workspace is refused when it runs (accounts/scoping.py)."""

    # Why this queryset may span workspaces, when it was said loudly; None for ordinary ones.
    _tenant_scope: str | None = None

    def for_workspace(self, workspace: Workspace) -> TenantQuerySet[_M]:
        return self.filter(workspace=workspace)

    def across_workspaces(self, reason: str) -> TenantQuerySet[_M]:
        """The one way around the workspace guard, for the few queries that truly span tenants."""
        clone = self._chain()  # type: ignore[attr-defined]
        clone._tenant_scope = reason
        return clone

    def _clone(self) -> TenantQuerySet[_M]:
        clone = super()._clone()  # type: ignore[misc]
        clone._tenant_scope = self._tenant_scope
        return clone

    # Every way a queryset reaches the database passes one of these.
    def _fetch_all(self) -> None:
        if self._result_cache is None:
            check_scoped(self)
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Iterator[_M]:
        check_scoped(self)
        return super().iterator(chunk_size)

    def count(self) -> int:
        if self._result_cache is None:
            check_scoped(self)
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            check_scoped(self)
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        check_scoped(self)
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        check_scoped(self)
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        check_scoped(self)
        return super().delete()

    def bulk_update(self, objs: Iterable[_M], fields: Iterable[str], batch_size: int | None = None) -> int:
        # The rows were loaded (scoped) before; Django updates them by primary key.
        rows = self.across_workspaces("bulk_update of rows already loaded")
        return super(TenantQuerySet, rows).bulk_update(objs, fields, batch_size=batch_size)


TenantManager = models.Manager.from_queryset(TenantQuerySet)


class Workspace(models.Model):
    """The tenant: one business running partner programs."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    settings = models.JSONField(default=dict, blank=True)
    # White label (accounts/branding.py): what partners see instead of Tandem's name and colours.
    # An uploaded logo's bytes live in WorkspaceLogo, so loading a workspace never loads an image.
    logo_version = models.CharField(max_length=16, blank=True, help_text="Hash of the uploaded logo, if any")
    logo_url = models.URLField(max_length=500, blank=True)
    brand_color = models.CharField(max_length=7, blank=True, help_text="#rrggbb")
    support_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def logo_path(self) -> str:
        """Where the logo is served from (a path on Tandem, or the URL given), or "" without one."""
        if self.logo_version:
            from django.urls import reverse

            return f"{reverse('workspace_logo', args=[self.slug])}?v={self.logo_version}"
        return self.logo_url


class WorkspaceLogo(models.Model):
    """The uploaded logo of a workspace (validated PNG, JPEG, GIF or WebP), served publicly."""

    workspace = models.OneToOneField(Workspace, primary_key=True, on_delete=models.CASCADE, related_name="logo")
    image = models.BinaryField()
    content_type = models.CharField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Logo of {self.workspace_id}"


class Domain(models.Model):
    """A destination domain of the workspace. Links may point here only once it is verified: its DNS
    carries the TXT record `tandem-verify=<verification_token>` (or an operator added it)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for DNS proof"
        VERIFIED = "verified", "Verified"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, help_text="ASCII (punycode) form; shown in Unicode")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    verification_token = models.CharField(max_length=64, default=new_verification_token)
    verified_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint("workspace", Lower("domain"), name="domain_unique_per_workspace"),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED

    @property
    def display_name(self) -> str:
        return display_domain(self.domain)

    @property
    def verification_record(self) -> str:
        return verification_value(self.verification_token)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    FINANCE = "finance", "Finance"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["workspace", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_per_workspace"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.workspace}"


class Invitation(models.Model):
    """What every emailed invitation records, staff or partner; its link carries a signed, expiring
    token (accounts/invitations.py). Each kind adds its workspace (own related name) and what it grants."""

    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    if TYPE_CHECKING:
        # Declared by each concrete kind; the shared code reads them.
        workspace: models.ForeignKey[Workspace, Workspace]
        workspace_id: int

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class StaffInvitation(Invitation):
    """An emailed invitation to join a workspace's staff."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="staff_invitations")
    role = models.CharField(max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(Invitation.Meta):
        indexes = [models.Index(fields=["workspace", "email"], name="staffinv_ws_email")]

    def __str__(self) -> str:
        return f"{self.email} → {self.workspace}"


class ApiKey(models.Model):
    """A workspace API key. Only its SHA-256 is stored; the key is shown once when made."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "created_at"], name="apikey_ws_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """The first answer to an API write sent with an `Idempotency-Key` header, replayed for a retry of it
    (accounts/api_platform.py). Kept a day at least; attribution's beat task purges older ones."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="idempotency_keys")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        db_table = "attribution_idempotencykey"  # moved from attribution with its rows (issue 12)
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="idempotencykey_unique_per_workspace")]
        indexes = [models.Index(fields=["workspace", "created_at"], name="idempotencykey_ws_created")]

    def __str__(self) -> str:
        return self.key


class AuditLogEntry(models.Model):
    """Who changed what, append-only."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_log")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, help_text="Who acted, kept even if the user is deleted.")
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="audit_ws_created")]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target_repr}"


class Heartbeat(models.Model):
    """Written by a periodic task so operators (and the integration test) can see workers run."""

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at}"


# Outbound webhooks keep their models in their own package; imported here so Django finds them.
from accounts.outbound.models import WebhookDelivery, WebhookEndpoint  # noqa: E402, F401
