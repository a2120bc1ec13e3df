"""Payout periods, the statements they issue, and the payouts that settle them.

A statement is frozen once issued: its lines copy what they show (customer, sale amount, rule,
commission) instead of reading it from the commission later, so a refund or an edit upstream
changes the *next* statement, never one a partner has already received.
"""

from __future__ import annotations

from typing import TypedDict

from django.db import models

from accounts.models import TenantManager, Workspace
from attribution.rewards import round_money
from partners.models import Partner, PayoutMethod
from reporting.payouts.codes import new_verification_code

__all__ = ["PayoutPeriod", "Statement", "StatementLine", "Payout"]


class MoneyOptions(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: MoneyOptions = {"max_digits": 18, "decimal_places": 4}


class PayoutPeriod(models.Model):
    """A closed stretch of time whose approved commissions were put on statements.

    Periods follow one another without overlapping: a period starts the day after the previous
    one ended (the first one has no start and takes everything up to its end).
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="payout_periods")
    start = models.DateField(null=True, blank=True, help_text="Empty for the first period: everything before the end.")
    end = models.DateField(help_text="The last day the period covers, inclusive.")
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_by_label = models.CharField(max_length=200, blank=True)
    # Partners whose balance stayed below the program minimum (or at or under zero) and carries over.
    carried_partner_count = models.PositiveIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        ordering = ["-end"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "end"], name="payoutperiod_end_unique_per_workspace")
        ]
        indexes = [models.Index(fields=["workspace", "-end"], name="payoutperiod_ws_end")]

    def __str__(self) -> str:
        return f"{self.start or '…'} – {self.end}"


class Statement(models.Model):
    """One partner's payable amount in one currency for one period, frozen when issued."""

    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"
        APPROVED = "approved", "Approved for payment"
        PAID = "paid", "Paid"

    PAYABLE = (Status.ISSUED, Status.APPROVED)

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="statements")
    period = models.ForeignKey(PayoutPeriod, on_delete=models.PROTECT, related_name="statements")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="statements")
    number = models.CharField(max_length=40, help_text="Shown to the partner, e.g. ST-2026-10-0007")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ISSUED)
    currency = models.CharField(max_length=3)
    commission_total = models.DecimalField(**MONEY)
    reversal_total = models.DecimalField(**MONEY, help_text="Negative: refunds and rejections taken back")
    adjustment_total = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY, help_text="What the partner is paid: the sum of the lines")
    line_count = models.PositiveIntegerField()
    # Copied when issued: the statement must read the same even if the partner's profile changes.
    partner_name = models.CharField(max_length=200)
    partner_email = models.EmailField()
    partner_company = models.CharField(max_length=200, blank=True)
    payout_method = models.CharField(max_length=16, blank=True)
    payout_details = models.TextField(blank=True)
    program_name = models.CharField(max_length=200)
    # The ledger as it stood when the statement was issued: the last entry it accounts for, and the
    # partner's balance in this currency up to it, so anyone can reconcile the statement with the chain.
    ledger_sequence = models.PositiveBigIntegerField(default=0)
    ledger_hash = models.CharField(max_length=64, blank=True)
    ledger_balance = models.DecimalField(**MONEY, default=0)
    # Printed on the PDF with its /verify/<code> address: anyone holding the statement can check it.
    verification_code = models.CharField(max_length=10, default=new_verification_code, editable=False)
    issued_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Approval is an optional second pair of eyes before the money leaves; paying does not require it.
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to="statements/%Y/%m/", blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["partner_name", "currency", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "period", "partner", "currency"], name="statement_one_per_partner_currency"
            ),
            models.UniqueConstraint(fields=["workspace", "number"], name="statement_number_unique_per_workspace"),
            models.UniqueConstraint(
                fields=["workspace", "verification_code"], name="statement_verification_code_unique_per_workspace"
            ),
            models.CheckConstraint(condition=models.Q(total__gt=0), name="statement_total_positive"),
        ]
        indexes = [
            models.Index(fields=["workspace", "period", "status"], name="statement_ws_period_status"),
            models.Index(fields=["workspace", "partner", "-issued_at"], name="statement_ws_partner_issued"),
            # /verify/<code> knows no workspace: the code alone finds the statement.
            models.Index(fields=["verification_code"], name="statement_verification_code"),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.partner_name} · {round_money(self.total, self.currency)} {self.currency}"

    @property
    def status_tone(self) -> str:
        tones: dict[str, str] = {self.Status.ISSUED: "warn", self.Status.APPROVED: "brand", self.Status.PAID: "ok"}
        return tones.get(self.status, "")

    @property
    def is_payable(self) -> bool:
        return self.status in self.PAYABLE

    @property
    def payout_method_label(self) -> str:
        """The method copied when issued, in words; statements issued before sealed methods name the old ones."""
        for choices in (PayoutMethod.Type, Partner.PayoutMethod):
            if self.payout_method in choices.values:
                return str(choices(self.payout_method).label)
        return "Not set"


class StatementLine(models.Model):
    """One frozen line of a statement: a commission, a refund taking one back, a rejection of one already
    on a statement, or a ledger adjustment.

    Each commission, reversal and adjustment is on at most one statement (database constraints), which
    is what keeps a period close idempotent and stops anything from being paid twice.
    """

    class Kind(models.TextChoices):
        COMMISSION = "commission", "Commission"
        REVERSAL = "reversal", "Refund reversal"
        REJECTION = "rejection", "Rejected after statement"
        ADJUSTMENT = "adjustment", "Adjustment"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="statement_lines")
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    date = models.DateField()
    description = models.CharField(max_length=255)
    customer_reference = models.CharField(max_length=200, blank=True)
    sale_amount = models.DecimalField(**MONEY, null=True, blank=True)
    rule = models.CharField(max_length=160, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    carried = models.BooleanField(
        default=False, help_text="From before the period: held back earlier, or a refund of something already paid"
    )
    commission = models.ForeignKey(
        "attribution.Commission", null=True, blank=True, on_delete=models.PROTECT, related_name="statement_lines"
    )
    reversal = models.ForeignKey(
        "attribution.CommissionReversal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statement_lines",
    )
    ledger_entry = models.ForeignKey(
        "attribution.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="statement_lines"
    )

    objects = TenantManager()

    class Meta:
        ordering = ["statement", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "commission"],
                condition=models.Q(kind="commission"),
                name="statementline_commission_once",
            ),
            models.UniqueConstraint(
                fields=["workspace", "reversal"],
                condition=models.Q(kind="reversal"),
                name="statementline_reversal_once",
            ),
            models.UniqueConstraint(
                fields=["workspace", "ledger_entry"],
                condition=models.Q(kind__in=["adjustment", "rejection"]),
                name="statementline_ledger_entry_once",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "statement", "position"], name="statementline_ws_stmt_pos")]

    def __str__(self) -> str:
        return f"{self.description}: {round_money(self.amount, self.currency)} {self.currency}"


class Payout(models.Model):
    """The money sent for one statement, and the ledger entry that took it off the partner's balance."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="payouts")
    statement = models.OneToOneField(Statement, on_delete=models.PROTECT, related_name="payout")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="payouts")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=16, blank=True)
    details = models.TextField(blank=True)
    reference = models.CharField(max_length=120, blank=True, help_text="The bank's or processor's reference, if given")
    paid_at = models.DateTimeField()
    recorded_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ledger_entry = models.OneToOneField("attribution.LedgerEntry", on_delete=models.PROTECT, related_name="payout")

    objects = TenantManager()

    class Meta:
        ordering = ["-paid_at", "-id"]
        indexes = [models.Index(fields=["workspace", "partner", "-paid_at"], name="payout_ws_partner_paid")]

    def __str__(self) -> str:
        return f"{round_money(self.amount, self.currency)} {self.currency} to partner {self.partner_id}"

    @property
    def method_label(self) -> str:
        """How the money left, in words: the run's method (Stripe, SEPA…), else the one on the statement."""
        from reporting.payouts.runs.rules import METHOD_LABELS

        if self.method in METHOD_LABELS:
            return METHOD_LABELS[self.method]
        return Partner.PayoutMethod(self.method).label if self.method in Partner.PayoutMethod.values else "Not set"
