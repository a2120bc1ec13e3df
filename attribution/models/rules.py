"""Reward rules and the workspace's exchange rates."""

from __future__ import annotations

from django.db import models

from accounts.models import TenantManager, Workspace


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
        "partners.PartnerGroup",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reward_rules",
        help_text="Empty: the program's rule. Set: overrides it for this group's partners.",
    )
    rule_key = models.UUIDField(help_text="Shared by every version of the same rule.")
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=120)
    lead_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    sale_type = models.CharField(max_length=8, choices=SaleType.choices, default=SaleType.PERCENT)
    sale_value = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        default=0,
        help_text="Percent (20 = 20%) or a flat amount in the program's currency.",
    )
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
            models.CheckConstraint(
                condition=models.Q(sale_value__gte=0) & models.Q(lead_amount__gte=0),
                name="rewardrule_amounts_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "program", "effective_from"], name="rewardrule_ws_prog_from")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ExchangeRate(models.Model):
    """The workspace's own rate for a day: 1 from_currency = rate to_currency."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="exchange_rates")
    date = models.DateField()
    from_currency = models.CharField(max_length=3)
    to_currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=20, decimal_places=10)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-date", "from_currency", "to_currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "date", "from_currency", "to_currency"], name="exchangerate_unique_per_day"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchangerate_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.date}: 1 {self.from_currency} = {self.rate} {self.to_currency}"
