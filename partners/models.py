from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from accounts.models import Invitation, TenantManager, User, Workspace
from core.iso import COUNTRY_CODES, COUNTRY_NAMES, CURRENCIES


def validate_currency(value: str) -> None:
    if value not in CURRENCIES:
        raise ValidationError(f"“{value}” is not an ISO 4217 currency code, such as USD or EUR.")


def validate_country(value: str) -> None:
    if value and value not in COUNTRY_CODES:
        raise ValidationError(f"“{value}” is not an ISO 3166 country code, such as US or DE.")


class Program(models.Model):
    """A partner program: its currency and the rules that decide who gets credit."""

    class Model(models.TextChoices):
        LAST_CLICK = "last_click", "Last click"
        FIRST_CLICK = "first_click", "First click"

    class ReportFrequency(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        OFF = "off", "Off"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="programs")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    attribution_window_days = models.PositiveIntegerField(default=90)
    attribution_model = models.CharField(max_length=16, choices=Model.choices, default=Model.LAST_CLICK)
    hold_days = models.PositiveIntegerField(default=30)
    minimum_payout = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    deal_protection_days = models.PositiveIntegerField(default=90)
    public_applications = models.BooleanField(default=False)
    terms = models.TextField(blank=True)
    # Where a partner's default link lands; blank means the home page of the first verified domain.
    default_destination = models.URLField(max_length=2000, blank=True)
    report_frequency = models.CharField(max_length=8, choices=ReportFrequency.choices, default=ReportFrequency.MONTHLY)
    # A partner of this program must have a W-9 or W-8BEN on file before its first payout.
    requires_tax_form = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["workspace", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="program_slug_unique_per_workspace")]

    def __str__(self) -> str:
        return self.name


class PartnerGroup(models.Model):
    """A group or tier of partners (e.g. Agencies, Gold); reward rules can differ per group."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="partner_groups")
    name = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["workspace", "name"]
        constraints = [
            models.UniqueConstraint("workspace", Lower("name"), name="partnergroup_name_unique_per_workspace"),
        ]

    def __str__(self) -> str:
        return self.name


class Partner(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        PENDING = "pending", "Pending review"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        REJECTED = "rejected", "Rejected"

    # How statements issued before payout methods were sealed (partners.PayoutMethod) name the method.
    class PayoutMethod(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        PAYPAL = "paypal", "PayPal"
        WISE = "wise", "Wise"
        OTHER = "other", "Other"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="partners")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="partners")
    group = models.ForeignKey(PartnerGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="partners")
    name = models.CharField(max_length=120)
    email = models.EmailField()
    company = models.CharField(max_length=120, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2", validators=[validate_country])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    notes = models.TextField(blank=True)
    rejection_reason = models.TextField(blank=True)
    # What an applicant told us on the public application page.
    website = models.URLField(blank=True)
    promotion_plan = models.TextField(blank=True)
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=120, blank=True, help_text="The tenant's own id for this partner")
    # The partner's own opt-out of the scheduled performance report (reporting/scheduled_reports.py).
    receives_reports = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        ordering = ["workspace", "name"]
        constraints = [
            models.UniqueConstraint("workspace", "program", Lower("email"), name="partner_email_unique_per_program"),
        ]
        indexes = [
            models.Index(fields=["workspace", "status"], name="partner_ws_status"),
            models.Index(fields=["workspace", "created_at"], name="partner_ws_created"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def earns(self) -> bool:
        """Only active partners earn credit; a suspended partner's links still redirect."""
        return self.status == self.Status.ACTIVE

    @property
    def country_name(self) -> str:
        return COUNTRY_NAMES.get(self.country, self.country)

    @property
    def status_tone(self) -> str:
        """The badge colour of the status, so every page shows a status the same way."""
        tones: dict[str, str] = {
            self.Status.ACTIVE: "ok",
            self.Status.PENDING: "warn",
            self.Status.INVITED: "brand",
            self.Status.SUSPENDED: "bad",
            self.Status.REJECTED: "bad",
        }
        return tones.get(self.status, "")


class PartnerUser(models.Model):
    """A login to a partner's portal. One person may be a partner in several workspaces."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="partner_users")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="users")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="partner_logins")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "partner", "user"], name="partneruser_unique"),
        ]
        indexes = [models.Index(fields=["workspace", "user"], name="partneruser_ws_user")]

    def __str__(self) -> str:
        return f"{self.user} → {self.partner}"


class PartnerInvitation(Invitation):
    """An emailed invitation to a partner's portal (the shared invitation, accounts/invitations.py)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="partner_invitations")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(Invitation.Meta):
        indexes = [models.Index(fields=["workspace", "partner"], name="partnerinv_ws_partner")]

    def __str__(self) -> str:
        return f"{self.email} → {self.partner}"


class PayoutMethod(models.Model):
    """How a partner is paid: one current method per partner, its details sealed (core/sealed.py).

    partners/payout_methods/ validates, masks and changes it; every change is in the audit log.
    """

    class Type(models.TextChoices):
        STRIPE_CONNECT = "stripe_connect", "Stripe"
        PAYPAL = "paypal", "PayPal"
        SEPA = "sepa", "SEPA bank transfer"
        MANUAL = "manual", "Paid outside Tandem"

    pk = models.CompositePrimaryKey("workspace_id", "partner_id")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    # No database constraint: a key naming partners_partner(id) alone would leave workspace_id out.
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    type = models.CharField(max_length=16, choices=Type.choices)
    sealed_details = models.TextField(help_text="The method's fields as JSON, sealed")
    updated_at = models.DateTimeField()

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.type}"


class TaxForm(models.Model):
    """A partner's W-9 (US person) or W-8BEN (anyone else), kept as data; the TIN is sealed."""

    class Kind(models.TextChoices):
        W9 = "w9", "W-9 (US person)"
        W8BEN = "w8ben", "W-8BEN (not a US person)"

    pk = models.CompositePrimaryKey("workspace_id", "partner_id")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    legal_name = models.CharField(max_length=200)
    business_name = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, validators=[validate_country])
    sealed_tin = models.TextField(help_text="The taxpayer identification number, sealed")
    tin_last4 = models.CharField(max_length=4)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True, help_text="State or province")
    postal_code = models.CharField(max_length=20, blank=True)
    signature_name = models.CharField(max_length=200)
    signed_on = models.DateField()
    updated_at = models.DateTimeField()

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.kind}"


# CSV imports of partners live in their own package (partners/imports/); importing the model here is what
# registers it with the partners app.
from partners.imports.models import PartnerImport as PartnerImport  # noqa: E402

# The notification rows live in their own package (partners/notifications/); importing them here is
# what registers them with the partners app.
from partners.notifications.models import Announcement as Announcement  # noqa: E402
from partners.notifications.models import AnnouncementDismissal as AnnouncementDismissal  # noqa: E402
from partners.notifications.models import Notification as Notification  # noqa: E402
from partners.notifications.models import NotificationPreference as NotificationPreference  # noqa: E402
