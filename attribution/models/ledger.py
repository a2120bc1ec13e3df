"""The partners' money ledger."""

from __future__ import annotations

from django.db import models

from accounts.models import TenantManager, Workspace
from attribution.models.options import DERIVED_KEY
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

    # No index of their own for these two keys: the indexes below start with them (see Commission).
    # No database constraint either (see DERIVED_KEY): an entry copies the partner of the commission
    # (or statement) it is posted for, in the same transaction, and the database refuses DELETE on
    # entries while Django's PROTECT refuses deleting a workspace or partner that has any.
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="ledger_entries", **DERIVED_KEY)
    sequence = models.PositiveBigIntegerField()
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="ledger_entries", **DERIVED_KEY)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    amount = models.DecimalField(
        max_digits=18, decimal_places=4, help_text="Signed: credits to the partner are positive."
    )
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
