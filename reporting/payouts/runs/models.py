"""A payout run and its items: which statements are being paid, how, and how far each got.

Tables follow the Citus rule (DESIGN.md, "Invariants"): `workspace_id` leads every key. A run's id
comes from a sequence of its own (ids stay unique across workspaces, so one workspace's id is a 404
in another's URL); an item is keyed by its run and statement. Links to rows of older tables carry no
database constraint, because a key naming their `id` alone would leave `workspace_id` out.
"""

from __future__ import annotations

from django.db import models

from accounts.models import TenantManager, User, Workspace
from partners.models import Partner
from reporting.payouts.models import MONEY, PayoutPeriod, Statement

__all__ = ["PayoutRun", "PayoutRunItem", "SepaDebtor"]

RUN_ID_SEQUENCE = "reporting_payoutrun_id_seq"


class PayoutRun(models.Model):
    """One payment of a set of statements, from preview to done."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Preview"
        EXECUTING = "executing", "Paying"
        AWAITING_CONFIRMATION = "awaiting_confirmation", "Waiting for confirmation"
        NEEDS_ATTENTION = "needs_attention", "Some payments failed"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    pk = models.CompositePrimaryKey("workspace_id", "id")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    id = models.BigIntegerField(
        db_default=models.Func(
            models.Value(RUN_ID_SEQUENCE), function="nextval", output_field=models.BigIntegerField()
        ),
        editable=False,
    )
    period = models.ForeignKey(
        PayoutPeriod, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    executed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="payoutrun_ws_created")]

    def __str__(self) -> str:
        return f"Payout run {self.id}"

    @property
    def status_tone(self) -> str:
        tones: dict[str, str] = {
            self.Status.DRAFT: "warn",
            self.Status.EXECUTING: "brand",
            self.Status.AWAITING_CONFIRMATION: "brand",
            self.Status.NEEDS_ATTENTION: "bad",
            self.Status.DONE: "ok",
        }
        return tones.get(self.status, "")


class PayoutRunItem(models.Model):
    """One statement in a run: its amount, the method it is paid by, and where that payment stands."""

    class Status(models.TextChoices):
        PENDING = "pending", "Ready to pay"
        BLOCKED = "blocked", "Blocked"
        SENDING = "sending", "Sending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        AWAITING_CONFIRMATION = "awaiting_confirmation", "Waiting for confirmation"
        CANCELLED = "cancelled", "Taken out of the run"

    # The statuses that hold a statement: it is in no other run while one of its items is in these.
    LIVE = (Status.PENDING, Status.SENDING, Status.PAID, Status.FAILED, Status.AWAITING_CONFIRMATION)

    pk = models.CompositePrimaryKey("workspace_id", "run_id", "statement_id")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    # (workspace_id, run_id) references the run by a key the migration adds in SQL.
    run_id = models.BigIntegerField()
    statement = models.ForeignKey(
        Statement, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=16, blank=True, help_text="stripe_connect, paypal, sepa, manual; empty: none")
    destination = models.CharField(max_length=200, blank=True, help_text="Where the money goes, masked")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    blocked_reason = models.CharField(max_length=300, blank=True)
    # A transfer Stripe refused was never made: the next try uses a new idempotency key (attempt + 1).
    attempt = models.PositiveSmallIntegerField(default=1)
    reference = models.CharField(max_length=120, blank=True, help_text="The transfer id or the bank's reference")
    error_message = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["run_id", "method", "statement_id"]
        constraints = [
            # A statement is in at most one live run: nothing can pay it twice through two runs.
            models.UniqueConstraint(
                fields=["workspace", "statement"],
                condition=models.Q(status__in=["pending", "sending", "paid", "failed", "awaiting_confirmation"]),
                name="payoutrunitem_statement_in_one_live_run",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "statement"], name="payoutrunitem_ws_statement")]

    def __str__(self) -> str:
        return f"Statement {self.statement_id} in run {self.run_id}"

    @property
    def status_tone(self) -> str:
        tones: dict[str, str] = {
            self.Status.PAID: "ok",
            self.Status.FAILED: "bad",
            self.Status.BLOCKED: "warn",
            self.Status.SENDING: "brand",
            self.Status.AWAITING_CONFIRMATION: "brand",
        }
        return tones.get(self.status, "")

    @property
    def idempotency_key(self) -> str:
        """The key Stripe deduplicates this statement's transfer by: the same on every retry of one attempt."""
        base = f"tandem-statement-{self.statement_id}"
        return base if self.attempt <= 1 else f"{base}-attempt-{self.attempt}"


class SepaDebtor(models.Model):
    """The workspace's own bank account, which SEPA payout files debit."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, primary_key=True, related_name="+")
    name = models.CharField(max_length=70)
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    def __str__(self) -> str:
        return self.name
