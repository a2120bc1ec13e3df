from __future__ import annotations

from django.db import models

from accounts.models import TenantManager, Workspace
from partners.models import Partner


class LedgerEntry(models.Model):
    """One money movement for a partner. Append-only: PostgreSQL refuses UPDATE and DELETE.

    Entries are numbered per workspace and each carries the previous entry's hash, so
    any edit made behind the database's back breaks the chain (`manage.py verify_ledger`).
    """

    class Kind(models.TextChoices):
        COMMISSION_EARNED = "commission_earned", "Commission earned"
        COMMISSION_REVERSED = "commission_reversed", "Commission reversed"
        COMMISSION_REJECTED = "commission_rejected", "Commission rejected"
        PAYOUT = "payout", "Payout"
        ADJUSTMENT = "adjustment", "Adjustment"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="ledger_entries")
    sequence = models.PositiveBigIntegerField()
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    amount = models.DecimalField(max_digits=18, decimal_places=4, help_text="Signed: credits to the partner are positive.")
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=120, blank=True, help_text="What this entry is about, e.g. commission:42")
    memo = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    objects = TenantManager()

    class Meta:
        ordering = ["workspace", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "sequence"], name="ledger_sequence_unique_per_workspace"),
        ]
        indexes = [
            models.Index(fields=["workspace", "partner", "currency"], name="ledger_ws_partner_cur"),
            models.Index(fields=["workspace", "reference"], name="ledger_ws_reference"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.kind} {self.amount} {self.currency}"


class RewardRule(models.Model):
    """One version of a reward rule. Editing a rule adds a version effective from a date;
    every commission records the version that computed it, so old commissions stay explainable.
    """

    class SaleType(models.TextChoices):
        PERCENT = "percent", "Percent of sale"
        FLAT = "flat", "Flat amount per sale"

    class Duration(models.TextChoices):
        ONE_TIME = "one_time", "First sale only"
        MONTHS = "months", "For N months"
        LIFETIME = "lifetime", "Lifetime"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="reward_rules")
    program = models.ForeignKey("partners.Program", on_delete=models.CASCADE, related_name="reward_rules")
    group = models.ForeignKey(
        "partners.PartnerGroup", null=True, blank=True, on_delete=models.CASCADE, related_name="reward_rules",
        help_text="Empty: the program's rule. Set: overrides it for this group's partners.",
    )
    rule_key = models.UUIDField(help_text="Shared by every version of the same rule.")
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=120)
    lead_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    sale_type = models.CharField(max_length=8, choices=SaleType.choices, default=SaleType.PERCENT)
    sale_value = models.DecimalField(max_digits=14, decimal_places=4, default=0,
                                     help_text="Percent (20 = 20%) or a flat amount in the program's currency.")
    duration = models.CharField(max_length=10, choices=Duration.choices, default=Duration.LIFETIME)
    duration_months = models.PositiveIntegerField(null=True, blank=True)
    cap_per_customer = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    min_sale_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    effective_from = models.DateTimeField()
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["workspace", "program", "rule_key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "rule_key", "version"], name="rewardrule_version_unique"),
            models.CheckConstraint(condition=models.Q(sale_value__gte=0) & models.Q(lead_amount__gte=0),
                                   name="rewardrule_amounts_not_negative"),
        ]
        indexes = [models.Index(fields=["workspace", "program", "effective_from"], name="rewardrule_ws_prog_from")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
