"""Attributed sales and refunds."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import TenantManager, Workspace
from attribution.models.options import DERIVED_KEY, MONEY
from partners.models import Partner


class Conversion(models.Model):
    """An attributed sale, or a refund of one, in the program's currency."""

    class Kind(models.TextChoices):
        SALE = "sale", "Sale"
        REFUND = "refund", "Refund"

    # Keys that lead one of the indexes below have no index of their own (see Commission). The
    # processor copies workspace, program, referral and partner from the referral it has just read
    # (or created) in the same transaction, so they carry no database constraint (see DERIVED_KEY).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="conversions", **DERIVED_KEY)
    program = models.ForeignKey(
        "partners.Program", on_delete=models.PROTECT, related_name="conversions", db_constraint=False
    )
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, related_name="conversions", **DERIVED_KEY
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="conversions", **DERIVED_KEY)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    event_id = models.CharField(max_length=200)
    processor_ref = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        help_text="The payment processor's or CRM's own id (e.g. stripe:pi_123), so a sale reaching Tandem twice is one sale.",
    )
    amount = models.DecimalField(**MONEY, help_text="In the program's currency; refunds are positive too.")
    currency = models.CharField(max_length=3)
    original_amount = models.DecimalField(**MONEY, null=True, blank=True)
    original_currency = models.CharField(max_length=3, blank=True)
    fx_rate = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        null=True,
        blank=True,
        help_text="original_currency → currency, the workspace's rate for the day",
    )
    occurred_at = models.DateTimeField()
    sale = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "event_id"], name="conversion_event_unique_per_workspace"),
            models.UniqueConstraint(
                fields=["workspace", "processor_ref"],
                condition=models.Q(processor_ref__isnull=False),
                name="conversion_processor_ref_unique",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="conversion_amount_not_negative"),
            models.CheckConstraint(
                condition=~models.Q(kind="refund") | models.Q(sale__isnull=False), name="conversion_refund_has_sale"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "partner", "occurred_at"], name="conversion_ws_partner_time"),
            models.Index(fields=["workspace", "referral", "occurred_at"], name="conversion_ws_referral_time"),
            models.Index(
                fields=["workspace", "sale"], condition=models.Q(sale__isnull=False), name="conversion_ws_sale"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.event_id}"

    @property
    def was_converted(self) -> bool:
        return bool(self.original_currency) and self.original_currency != self.currency


class ConversionDay(models.Model):
    """A partner's sales and refunds of one UTC day, kept as additions: read them by summing.

    PostgreSQL's triggers on the conversions table (migration 0021) add a row per partner and day
    for every statement that inserts, changes or deletes conversions, whoever runs it, so the sums
    always equal the conversions; `fold_conversion_days` (a beat task) folds each day's rows into
    one. Additions rather than one row per day, because that row would be locked by every set
    that records a sale of the partner that day, from its insert until its commit.

    The fraud signals read a partner's last 30 days here (refund rate, conversion spike) instead of
    counting each conversion of the window, which is a month of the partner's sales.
    """

    pk = models.CompositePrimaryKey("workspace_id", "partner_id", "day", "batch")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", **DERIVED_KEY)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+", **DERIVED_KEY)
    day = models.DateField(help_text="UTC day of the conversions")
    batch = models.BigIntegerField(help_text="From the sequence attribution_conversionday_batch")
    sales = models.IntegerField(default=0)
    sold = models.DecimalField(**MONEY, default=0)
    refunds = models.IntegerField(default=0)
    refunded = models.DecimalField(**MONEY, default=0)
    folded = models.BooleanField(default=False, help_text="Written by the fold, not by a trigger")

    objects = TenantManager()

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "partner", "day"],
                condition=models.Q(folded=False),
                name="conversionday_unfolded",
            )
        ]

    def __str__(self) -> str:
        return f"Partner {self.partner_id} on {self.day}"
