"""The record of each scheduled report sent, so a report goes out once per recipient and period."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from accounts.models import TenantManager, Workspace
from partners.models import Partner

__all__ = ["ReportDelivery"]


class ReportDelivery(models.Model):
    """One scheduled email for one recipient and period. The row is claimed (and locked) before the email
    is built; `sent_at` is set once the mail server took it, so a rerun of the beat sends nothing twice."""

    class Kind(models.TextChoices):
        PARTNER_REPORT = "partner_report", "Partner performance report"
        MANAGER_DIGEST = "manager_digest", "Manager weekly digest"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="report_deliveries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Exactly one of partner (partner_report) or user (manager_digest) names the recipient.
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    recipient_email = models.EmailField()
    period_start = models.DateField()
    period_end = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-period_start", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "partner", "period_start"],
                condition=Q(partner__isnull=False),
                name="reportdelivery_unique_partner_period",
            ),
            models.UniqueConstraint(
                fields=["workspace", "kind", "user", "period_start"],
                condition=Q(user__isnull=False),
                name="reportdelivery_unique_user_period",
            ),
            models.CheckConstraint(
                condition=Q(partner__isnull=True) ^ Q(user__isnull=True), name="reportdelivery_one_recipient"
            ),
        ]
        indexes = [models.Index(fields=["workspace", "kind", "period_start"], name="reportdelivery_ws_kind_period")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start}–{self.period_end} to {self.recipient_email}"
