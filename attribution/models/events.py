"""Inbound events: leads, sales and refunds as they reached Tandem."""

from __future__ import annotations

from django.db import models

from accounts.models import TenantManager, Workspace
from attribution.models.options import DERIVED_KEY


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
    # A lead or sale waits for an earlier, still unprocessed event of the same customer (see attribution/processing/).
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
