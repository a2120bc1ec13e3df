"""Commissions and the reversals refunds make of them."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone

from accounts.models import TenantManager, Workspace
from attribution.models.conversions import Conversion
from attribution.models.options import DERIVED_KEY, MONEY
from attribution.models.rules import RewardRule
from partners.models import Partner


class Commission(models.Model):
    """What a partner earned for one conversion (or lead) under one version of a reward rule."""

    class Kind(models.TextChoices):
        LEAD = "lead", "Lead reward"
        SALE = "sale", "Sale commission"
        MANUAL = "manual", "Bonus"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_REVIEW = "in_review", "Under review"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"
        REJECTED = "rejected", "Rejected"
        REVERSED = "reversed", "Reversed"

    # Every query is scoped by workspace, so a key that follows the workspace in one of the indexes
    # below needs no index of its own: one fewer index to keep up on each of millions of inserts.
    # Workspace, program, partner and referral are the conversion's (or the lead's referral's), and
    # the reward rule is one the processor has just read, all in the same transaction: no database
    # constraint (see DERIVED_KEY). The conversion keeps its constraint: it ties the money to the sale.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="commissions", **DERIVED_KEY)
    program = models.ForeignKey(
        "partners.Program", on_delete=models.PROTECT, related_name="commissions", db_constraint=False
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="commissions", **DERIVED_KEY)
    # A bonus a manager adds by hand (kind `manual`) has no customer and no rule: only its description.
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="commissions", **DERIVED_KEY
    )
    conversion = models.ForeignKey(
        Conversion, null=True, blank=True, on_delete=models.PROTECT, related_name="commissions", db_index=False
    )
    reward_rule = models.ForeignKey(
        RewardRule, null=True, blank=True, on_delete=models.PROTECT, related_name="commissions", db_constraint=False
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    description = models.CharField(
        max_length=255, blank=True, help_text="Why a manager added this bonus; the partner reads it"
    )
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    occurred_at = models.DateTimeField(help_text="When the sale or lead happened")
    hold_until = models.DateTimeField(help_text="Approved automatically once this passes (the program's hold)")
    reversed_amount = models.DecimalField(**MONEY, default=0)
    rejection_reason = models.TextField(blank=True)
    # Fraud review (attribution.fraud): 0-100 and the sentences behind it, fixed when the commission is made.
    risk_score = models.PositiveSmallIntegerField(default=0, db_default=0)
    risk_reasons = models.JSONField(default=list, db_default=[], blank=True)
    explanation = models.JSONField(
        default=dict, help_text="Why it was earned: source, click or code, window, rule and version, amounts"
    )
    created_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    paid_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "conversion", "partner", "reward_rule"],
                name="commission_unique_per_conversion_rule",
            ),
            models.UniqueConstraint(
                fields=["workspace", "referral", "partner", "reward_rule"],
                condition=models.Q(kind="lead"),
                name="commission_one_lead_reward",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="commission_amount_not_negative"),
            models.CheckConstraint(
                condition=models.Q(reversed_amount__gte=0) & models.Q(reversed_amount__lte=models.F("amount")),
                name="commission_reversal_within_amount",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="sale") | models.Q(conversion__isnull=False),
                name="commission_sale_has_conversion",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="manual")
                | (models.Q(referral__isnull=False) & models.Q(reward_rule__isnull=False)),
                name="commission_earned_has_referral_and_rule",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="manual") | (models.Q(conversion__isnull=True) & ~models.Q(description="")),
                name="commission_manual_has_description",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "hold_until"], name="commission_ws_status_hold"),
            models.Index(fields=["workspace", "partner", "created_at"], name="commission_ws_partner_created"),
            models.Index(fields=["workspace", "referral"], name="commission_ws_referral"),
            # For deleting a user (SET_NULL); only the few commissions a person approved or rejected.
            models.Index(
                fields=["approved_by"], condition=models.Q(approved_by__isnull=False), name="commission_approved_by"
            ),
            models.Index(
                fields=["rejected_by"], condition=models.Q(rejected_by__isnull=False), name="commission_rejected_by"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}: {self.amount} {self.currency}"

    @property
    def net_amount(self) -> Decimal:
        """What the partner keeps: nothing once rejected, else the amount less reversals."""
        if self.status == self.Status.REJECTED:
            return Decimal("0")
        return self.amount - self.reversed_amount

    @property
    def is_manual(self) -> bool:
        return self.kind == self.Kind.MANUAL

    @property
    def status_tone(self) -> str:
        tones: dict[str, str] = {
            self.Status.PENDING: "warn",
            self.Status.IN_REVIEW: "bad",
            self.Status.APPROVED: "brand",
            self.Status.PAID: "ok",
            self.Status.REJECTED: "bad",
            self.Status.REVERSED: "",
        }
        return tones.get(self.status, "")


class CommissionReversal(models.Model):
    """The part of a commission one refund took back; it points at both and never exceeds the commission."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="commission_reversals")
    commission = models.ForeignKey(Commission, on_delete=models.PROTECT, related_name="reversals")
    refund = models.ForeignKey(Conversion, on_delete=models.PROTECT, related_name="reversals")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "refund", "commission"], name="reversal_unique_per_refund"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="reversal_amount_positive"),
        ]
        indexes = [models.Index(fields=["workspace", "commission"], name="reversal_ws_commission")]

    def __str__(self) -> str:
        return f"−{self.amount} {self.currency} on commission {self.commission_id}"
