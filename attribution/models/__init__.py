from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.db import models
from django.utils import timezone

from accounts.models import TenantManager, Workspace
from partners.models import Partner


# A key copied from rows the same transaction has just read or written, on a table the inbox
# processor appends to for every sale: no index of its own (an index of the table leads with it)
# and no database constraint. Each constraint costs a lookup and a FOR KEY SHARE lock of the
# referenced row per inserted row (about a fifth of a sale's processing, and every worker locks
# the same workspace and program rows); Django's on_delete still protects (or cascades) the rows
# when a workspace, program, partner, referral or reward rule is deleted through the ORM, and
# Tandem deletes none of them otherwise. The keys that tie money to money (a commission to its
# sale, a refund to its sale, a reversal to both) keep their constraints.
class DerivedKeyOptions(TypedDict):
    db_index: bool
    db_constraint: bool


DERIVED_KEY: DerivedKeyOptions = {"db_index": False, "db_constraint": False}


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


class InboundEvent(models.Model):
    """A lead, sale or refund as it reached Tandem, before (and after) attribution.

    Written once by `inbox.accept_events`, in the caller's transaction; the processor later
    moves it out of `received` in the same transaction that writes what it caused.
    """

    class Kind(models.TextChoices):
        LEAD = "lead", "Lead"
        SALE = "sale", "Sale"
        REFUND = "refund", "Refund"

    class Source(models.TextChoices):
        API = "api", "API"
        STRIPE = "stripe", "Stripe"
        HUBSPOT = "hubspot", "HubSpot"
        CSV = "csv", "CSV import"
        MANUAL = "manual", "Entered by hand"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        ATTRIBUTED = "attributed", "Attributed"
        UNATTRIBUTED = "unattributed", "Unattributed"
        DUPLICATE = "duplicate", "Duplicate sale"
        FAILED = "failed", "Failed"

    # Every index below starts with the workspace (see Commission). The workspace is the one whose API
    # key, webhook or upload the request was just authenticated by: no database constraint (see
    # DERIVED_KEY; its check took about 4 µs of every event accepted).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="inbound_events", **DERIVED_KEY)
    event_id = models.CharField(max_length=200, help_text="The sender's id for the event; one event per id.")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    payload = models.JSONField(
        help_text="The normalised event, with the original payload under `raw` when there is one."
    )
    # The sale a refund refers to, and a sale's processor id, as columns so that a refund finds its
    # sale (and a sale the refunds waiting for it) by an index.
    related_event_id = models.CharField(max_length=200, blank=True)
    processor_ref = models.CharField(max_length=200, blank=True)
    # A lead or sale waits for an earlier, still unprocessed event of the same customer (see processing.py).
    customer_external_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.RECEIVED)
    reason = models.TextField(blank=True, help_text="Why the event ended as it did, for the people reading it.")
    reason_code = models.CharField(
        max_length=40, blank=True, help_text="The same reason for programs, e.g. no_exchange_rate."
    )
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField()
    attempted_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "event_id"], name="inboundevent_unique_per_workspace"),
        ]
        indexes = [
            # The events page, newest first; and its tabs of the statuses that are not the usual outcome
            # (pending, unattributed, failed, duplicate), which stay small however long the history.
            # Attributed events are most of them: that tab reads the first index, skipping the rest.
            # Each event costs the same index entries as a single (workspace, status, received_at) index
            # would, which could not serve the page without sorting every event of the workspace.
            models.Index(fields=["workspace", "received_at", "id"], name="inboundevent_ws_received"),
            models.Index(
                fields=["workspace", "status", "received_at"],
                condition=~models.Q(status="attributed"),
                name="inboundevent_ws_status_open",
            ),
            models.Index(
                fields=["workspace", "related_event_id"],
                condition=models.Q(kind="refund"),
                name="inboundevent_ws_refund_of",
            ),
            models.Index(
                fields=["workspace", "processor_ref"],
                condition=~models.Q(processor_ref=""),
                name="inboundevent_ws_processor_ref",
            ),
            models.Index(
                fields=["workspace", "customer_external_id", "id"],
                condition=models.Q(status="received"),
                name="inboundevent_ws_cust_pending",
            ),
            # The few events waiting for an earlier event of their customer, which every set that settles
            # customers looks for (processing._wake_customers): without it, that reads every pending event
            # of those customers, tens per customer while the workers catch up with a large import.
            models.Index(
                fields=["workspace", "customer_external_id"],
                condition=models.Q(reason_code="waiting_for_customer"),
                name="inboundevent_ws_cust_waits",
            ),
            # Sales left without a partner, by customer: reopened when their customer becomes a referral
            # (attribution/reopen.py); and the events waiting for their click (attribution/click_wait.py).
            models.Index(
                fields=["workspace", "customer_external_id"],
                condition=models.Q(reason_code="no_partner"),
                name="inboundevent_ws_cust_nopartner",
            ),
            models.Index(
                fields=["workspace", "id"],
                condition=models.Q(reason_code="waiting_for_click"),
                name="inboundevent_ws_click_waits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"

    @property
    def status_tone(self) -> str:
        tones: dict[str, str] = {
            self.Status.RECEIVED: "brand",
            self.Status.ATTRIBUTED: "ok",
            self.Status.UNATTRIBUTED: "warn",
            self.Status.DUPLICATE: "",
            self.Status.FAILED: "bad",
        }
        return tones.get(self.status, "")

    @property
    def original(self) -> dict:
        """What the sender sent: the raw payload of a webhook or import, else the normalised event."""
        return self.payload.get("raw") or {k: v for k, v in self.payload.items() if k != "raw"}


class MoneyOptions(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: MoneyOptions = {"max_digits": 18, "decimal_places": 4}


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


class Commission(models.Model):
    """What a partner earned for one conversion (or lead) under one version of a reward rule."""

    class Kind(models.TextChoices):
        LEAD = "lead", "Lead reward"
        SALE = "sale", "Sale commission"
        MANUAL = "manual", "Bonus"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
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


from attribution.integrations.models import *  # noqa: E402,F401,F403 - the integrations keep their models in their own module
