"""Links, referral codes, clicks, referrals (leads) and deal registrations."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.models import TenantManager, User, Workspace
from partners.models import Partner, Program


class Link(models.Model):
    """A partner's short link `/r/<code>` to a page on one of the workspace's verified domains.

    The code is stored lower-case and is unique across all of Tandem, because `/r/<code>` carries
    no workspace. Archived links stop redirecting (the visitor sees the 404 page).
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="links")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="links")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="links")
    code = models.CharField(max_length=40)
    destination_url = models.URLField(max_length=2000)
    channel = models.CharField(max_length=60, blank=True, help_text="Where the partner uses the link, e.g. newsletter")
    campaign = models.CharField(max_length=120, blank=True)
    utm_source = models.CharField(max_length=120, blank=True)
    utm_medium = models.CharField(max_length=120, blank=True)
    utm_campaign = models.CharField(max_length=120, blank=True)
    utm_term = models.CharField(max_length=120, blank=True)
    utm_content = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # The link every partner gets on joining, to its program's default destination (referrals/default_links.py).
    is_default = models.BooleanField(default=False)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "partner"], condition=Q(is_default=True), name="link_one_default_per_partner"
            ),
            # Global on purpose: the short URL names no workspace. On a distributed database this
            # table would be a reference table keyed by code.
            models.UniqueConstraint(fields=["code"], name="link_code_unique"),
            models.CheckConstraint(condition=Q(code=Lower("code")), name="link_code_lowercase"),
        ]
        indexes = [
            models.Index(fields=["workspace", "partner", "created_at"], name="link_ws_partner_created"),
            models.Index(fields=["workspace", "channel"], name="link_ws_channel"),
        ]

    def __str__(self) -> str:
        return f"/r/{self.code}"

    @property
    def is_active(self) -> bool:
        return self.archived_at is None

    @property
    def path(self) -> str:
        return f"/r/{self.code}"


class ReferralCode(models.Model):
    """A coupon-style code a customer types at checkout; unique per workspace whatever its case."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="referral_codes")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="referral_codes")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="referral_codes")
    code = models.CharField(max_length=40)
    channel = models.CharField(max_length=60, blank=True)
    campaign = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint("workspace", Lower("code"), name="referralcode_unique_per_workspace"),
        ]
        indexes = [models.Index(fields=["workspace", "partner", "created_at"], name="refcode_ws_partner_created")]

    def __str__(self) -> str:
        return self.code

    @property
    def is_active(self) -> bool:
        return self.archived_at is None


class Click(models.Model):
    """One visit through a link, written in batches by the click flusher, never by the redirect itself.

    Neither the raw IP address nor anything reversible is kept: `ip_hash` and `visitor_hash` are
    HMACs with a salt that changes every day (see referrals/clicks/hashing.py).
    """

    # Clicks are the one table written millions of times, so its keys carry neither single-column
    # indexes (each index below leads with one of them) nor database constraints (three lookups
    # per inserted row). The flusher only inserts rows whose link and partner it has just joined,
    # and deleting a workspace, link or partner still deletes its clicks (Django's CASCADE).
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="clicks", db_index=False, db_constraint=False
    )
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="clicks", db_index=False, db_constraint=False)
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="clicks", db_index=False, db_constraint=False
    )
    click_id = models.CharField("tclid", max_length=32)
    clicked_at = models.DateTimeField()
    ip_hash = models.CharField(max_length=64)
    visitor_hash = models.CharField(max_length=64, help_text="HMAC of IP and user agent; same visitor, same day")
    user_agent = models.CharField(max_length=512, blank=True)
    referrer = models.CharField(max_length=2000, blank=True)
    is_bot = models.BooleanField(default=False)
    is_unique = models.BooleanField(default=True, help_text="First visit of this visitor to this link in 24 hours")
    earns_credit = models.BooleanField(default=True, help_text="The partner was active when the click was recorded")

    objects = TenantManager()

    class Meta:
        ordering = ["-clicked_at", "-id"]
        # Global, not per workspace: the flusher's ON CONFLICT (click_id) is what makes a re-delivered
        # batch harmless, and a tclid handed back to the API must name one click.
        constraints = [models.UniqueConstraint(fields=["click_id"], name="click_id_unique")]
        indexes = [
            models.Index(fields=["workspace", "clicked_at"], name="click_ws_time"),
            # A partner or a link belongs to one workspace, so these need not lead with it. The
            # flusher's uniqueness probe (link, visitor, time) can then only use click_link_visitor,
            # whatever the statistics say (see referrals/clicks/writer.py).
            models.Index(fields=["partner", "clicked_at"], name="click_partner_time"),
            models.Index(fields=["link", "visitor_hash", "clicked_at"], name="click_link_visitor"),
        ]

    def __str__(self) -> str:
        return self.click_id


class LatestVisit(models.Model):
    """When a visitor last clicked a link (human clicks only), kept for two days.

    The click flusher decides a click's uniqueness from this small table (one row per link and
    visitor) instead of probing every click of the visitor in `referrals_click`; see
    referrals/clicks/writer.py. Only the flusher writes it, and it forgets rows older than
    `writer.LATEST_VISIT_KEEP`, so rows of a deleted link or workspace simply age out
    (hence no key constraints and no cascade).
    """

    pk = models.CompositePrimaryKey("workspace_id", "link_id", "visitor_hash")
    workspace = models.ForeignKey(
        Workspace, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    link = models.ForeignKey(Link, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False)
    visitor_hash = models.CharField(max_length=64)
    clicked_at = models.DateTimeField()

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.link_id}:{self.visitor_hash}"


class DealRegistration(models.Model):
    """A lead a partner registers before the customer arrives; approval protects it for the partner."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Awaiting review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="deal_registrations")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="deal_registrations")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="deal_registrations")
    company = models.CharField(max_length=160)
    contact_name = models.CharField(max_length=160)
    contact_email = models.EmailField()
    company_domain = models.CharField(
        max_length=253, blank=True, help_text="From the contact's email, unless a free mail provider"
    )
    estimated_value = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    conflict_note = models.TextField(
        blank=True, help_text="Why Tandem thinks someone else may already own this customer"
    )
    reason = models.TextField(blank=True, help_text="The manager's reason, shown to the partner")
    submitted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(estimated_value__gte=Decimal("0")), name="dealreg_value_not_negative"),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "created_at"], name="dealreg_ws_status_created"),
            models.Index(fields=["workspace", "partner", "created_at"], name="dealreg_ws_partner_created"),
            models.Index(fields=["workspace", "company_domain"], name="dealreg_ws_domain"),
        ]

    def __str__(self) -> str:
        return f"{self.company} ({self.get_status_display()})"

    @property
    def has_conflict(self) -> bool:
        return bool(self.conflict_note)

    @property
    def status_tone(self) -> str:
        tones: dict[str, str] = {
            self.Status.SUBMITTED: "warn",
            self.Status.APPROVED: "ok",
            self.Status.REJECTED: "bad",
            self.Status.EXPIRED: "",
        }
        return tones.get(self.status, "")


class Referral(models.Model):
    """A referred customer (a lead), bound to one partner, with the source that won it."""

    class Source(models.TextChoices):
        LINK = "link", "Link"
        CODE = "code", "Referral code"
        DEAL_REGISTRATION = "deal_registration", "Deal registration"
        MANUAL = "manual", "Added by a manager"

    class Stage(models.TextChoices):
        LEAD = "lead", "Lead"
        CUSTOMER = "customer", "Customer"
        EXPIRED = "expired", "Protection expired"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="referrals")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="referrals")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="referrals")
    # Blank only while a registered deal waits for the tenant to report the customer.
    customer_external_id = models.CharField(max_length=200, blank=True)
    customer_email = models.EmailField(blank=True, help_text="Stored lower-case")
    customer_name = models.CharField(max_length=160, blank=True)
    customer_domain = models.CharField(max_length=253, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.LEAD)
    click = models.ForeignKey(Click, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals")
    code = models.ForeignKey(ReferralCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals")
    deal_registration = models.OneToOneField(
        DealRegistration, null=True, blank=True, on_delete=models.SET_NULL, related_name="referral"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    protected_until = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "program", "customer_external_id"],
                condition=~Q(customer_external_id=""),
                name="referral_customer_unique_per_program",
            ),
            models.CheckConstraint(
                condition=~Q(source="code") | Q(code__isnull=False), name="referral_code_source_has_code"
            ),
            models.CheckConstraint(
                condition=~Q(source="deal_registration") | Q(deal_registration__isnull=False),
                name="referral_deal_source_has_deal",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "partner", "created_at"], name="referral_ws_partner_created"),
            models.Index(fields=["workspace", "customer_domain"], name="referral_ws_domain"),
            models.Index(fields=["workspace", "customer_email"], name="referral_ws_email"),
        ]

    def __str__(self) -> str:
        return self.customer_external_id or self.customer_email or self.customer_name or f"Referral {self.pk}"

    @property
    def stage_tone(self) -> str:
        tones: dict[str, str] = {self.Stage.LEAD: "brand", self.Stage.CUSTOMER: "ok", self.Stage.EXPIRED: ""}
        return tones.get(self.stage, "")
