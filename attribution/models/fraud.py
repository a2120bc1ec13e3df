"""Fraud review: each program's signal settings, partners under review, and partners' replies.

Each table keys on workspace first (composite primary keys, no key constraints to tables whose
keys lack workspace_id), so it distributes by workspace like every new table (DESIGN.md).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import TenantManager, Workspace
from attribution.models.options import DERIVED_KEY

# Keys to rows of older tables (their keys lack workspace_id): no database constraint, see
# tests/test_tenant_keys.py; the ORM's on_delete still applies.
_LOOSE = DERIVED_KEY


class FraudSettings(models.Model):
    """A program's fraud rules: the score that holds a commission, and each signal's weight and threshold.

    Created lazily with the defaults (attribution.fraud.settings); `signals` holds only what a
    manager changed, keyed by signal, e.g. {"fast_sale": {"weight": 40, "threshold": 0.02}}.
    """

    pk = models.CompositePrimaryKey("workspace_id", "program_id")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", **_LOOSE)
    program = models.ForeignKey("partners.Program", on_delete=models.CASCADE, related_name="+", **_LOOSE)
    review_threshold = models.PositiveSmallIntegerField(
        default=70, help_text="Commissions scoring this much or more wait for a manager's review"
    )
    signals = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"Fraud settings of program {self.program_id}"


class PartnerFlag(models.Model):
    """A partner a manager put under fraud review: its new commissions are held, its payouts blocked."""

    pk = models.CompositePrimaryKey("workspace_id", "partner_id")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", **_LOOSE)
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+", **_LOOSE)
    reason = models.TextField(blank=True)
    flagged_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", **_LOOSE
    )
    flagged_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"Partner {self.partner_id} under review"


class ReviewReply(models.Model):
    """A partner's one explanation of a commission under review; managers read it in the queue."""

    pk = models.CompositePrimaryKey("workspace_id", "commission_id")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", **_LOOSE)
    commission = models.ForeignKey("attribution.Commission", on_delete=models.CASCADE, related_name="+", **_LOOSE)
    message = models.TextField()
    replied_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", **_LOOSE
    )
    replied_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"Reply on commission {self.commission_id}"


class PartnerVisit(models.Model):
    """A device a partner's own people used on the portal, as the click recorder hashes visitors.

    The hash is salted by day (referrals.clicks.hashing), so a match means the same address and
    browser on the same day: the partner's own device made the click that won the sale.
    """

    pk = models.CompositePrimaryKey("workspace_id", "partner_id", "visitor_hash")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", **_LOOSE)
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+", **_LOOSE)
    visitor_hash = models.CharField(max_length=64)
    ip_hash = models.CharField(max_length=64)
    seen_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"Partner {self.partner_id} visit"
