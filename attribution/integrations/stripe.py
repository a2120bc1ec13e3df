"""Stripe webhooks: verify the `Stripe-Signature`, then map the event to inbound leads, sales and refunds.

Which Stripe object names a sale matters, because the same money can reach us twice (a checkout
session and the invoice it created) and a refund has to find the sale it undoes:

- a sale is keyed by its payment intent (`stripe:pi_…`) whenever the payload names one, else by
  its invoice (`stripe:in_…`), else by the checkout session (`stripe:cs_…`);
- a checkout session that created an invoice (every subscription, and one-off payments with
  invoice creation on) makes only the lead: that invoice's `invoice.paid` is the one route that
  carries its money, so the first payment of a subscription is never counted twice;
- a refund is keyed by Stripe's refund id and names its sale (`sale_event_id`, which the inbox
  also matches against a sale's processor_ref) by the charge's payment intent.

Since API version 2025-03-31 an invoice no longer names its payment intent in webhooks, so its
sale is keyed by the invoice, and a refund of it (which only names the payment intent) cannot
be matched; the inbox keeps such a refund unattributed rather than guess.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import stripe
from django.db import transaction

from accounts.models import Workspace
from attribution.inbox import IncomingEvent, InvalidEvents, accept_events
from attribution.integrations.models import IntegrationSettings
from attribution.integrations.webhooks import WebhookRejected, WebhookResult, record_unusable
from core.iso import CURRENCIES
from core.text import find_unusable_text

SOURCE = "stripe"
# Stripe's own default, and the window on the other side too: the library refuses old
# timestamps only, so a replay signed with a clock far ahead would otherwise pass for years.
TOLERANCE_SECONDS = 300

# Stripe's minor units differ from ISO 4217 in places (ISK, HUF and TWD travel with two decimals).
_ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
_THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())

_HINT_VALUE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
HANDLED_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "invoice.paid",
        "charge.refunded",
    }
)


class UnusableEvent(ValueError):
    """A signed event of a type we handle that lacks what the mapping needs."""


# --- Verification ---------------------------------------------------------------------------------


def verify_signature(*, payload: bytes, header: str | None, secret: str, now: float | None = None) -> None:
    """Accept the payload only if Stripe signed it with `secret` within five minutes either way.

    The official library checks the HMAC and the age; the future bound is ours.
    """
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(400, "invalid_signature", f"The Stripe-Signature header does not verify: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise WebhookRejected(400, "invalid_payload", "The body is not UTF-8 text.") from exc
    # The library parsed the header already, so this cannot fail.
    timestamp = int(next(item.split("=", 1)[1] for item in (header or "").split(",") if item.startswith("t=")))
    if timestamp > (now if now is not None else time.time()) + TOLERANCE_SECONDS:
        raise WebhookRejected(400, "invalid_signature", "The Stripe-Signature timestamp is more than 5 minutes ahead.")


# --- Mapping ----------------------------------------------------------------------------------------


def minor_to_decimal(amount: Any, currency: str) -> Decimal:
    """Stripe's integer minor units as a Decimal in the currency's major unit (1999 USD -> 19.99)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise UnusableEvent(f"The amount {amount!r} is not an integer number of minor units.")
    places = 0 if currency in _ZERO_DECIMAL else 3 if currency in _THREE_DECIMAL else 2
    return Decimal(amount).scaleb(-places)


def _currency(raw: Any) -> str:
    code = str(raw or "").upper()
    if code not in CURRENCIES:
        raise UnusableEvent(f"The currency {raw!r} is not an ISO 4217 code.")
    return code


def _id_of(value: Any) -> str | None:
    """An expandable field is either an id or the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _when(unix: Any) -> datetime | None:
    if isinstance(unix, int) and not isinstance(unix, bool) and unix > 0:
        return datetime.fromtimestamp(unix, tz=UTC)
    return None


def _clean(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text if text and _HINT_VALUE.match(text) else None


def _referral_hints(*metadatas: Any, client_reference_id: Any = None) -> tuple[str | None, str | None]:
    """(click id, referral code) from metadata `tclid` / `referral_code` / `code`, else client_reference_id.

    client_reference_id may carry either, bare or as `tclid:<id>` / `code:<code>`; bare, it is
    offered to the engine as both, and only one of them can name a row of this workspace.
    """
    click_id = code = None
    for metadata in metadatas:
        if not isinstance(metadata, dict):
            continue
        click_id = click_id or _clean(metadata.get("tclid"))
        code = code or _clean(metadata.get("referral_code")) or _clean(metadata.get("code"))
    if click_id or code:
        return click_id, code
    reference = str(client_reference_id or "").strip()
    prefix, _, rest = reference.partition(":")
    if rest and prefix.lower() == "tclid":
        return _clean(rest), None
    if rest and prefix.lower() in ("code", "referral_code"):
        return None, _clean(rest)
    value = _clean(reference)
    return value, value


def _sale_ref(*, payment_intent: str | None, invoice: str | None = None, fallback: str | None = None) -> str | None:
    for ref in (payment_intent, invoice, fallback):
        if ref:
            return f"stripe:{ref}"
    return None


def _checkout_session(event: dict[str, Any], session: dict[str, Any], *, completed: bool) -> list[IncomingEvent]:
    event_id = f"stripe:{event['id']}"
    details = session.get("customer_details") or {}
    email = str(details.get("email") or session.get("customer_email") or "").strip().lower() or None
    customer = _id_of(session.get("customer")) or email
    if not customer:
        raise UnusableEvent("The checkout session names neither a customer nor an email address.")
    occurred_at = _when(event.get("created"))
    click_id, code = _referral_hints(session.get("metadata"), client_reference_id=session.get("client_reference_id"))
    out: list[IncomingEvent] = []
    if completed and (click_id or code):
        out.append(
            IncomingEvent(
                kind="lead",
                event_id=f"{event_id}:lead",
                customer_external_id=customer,
                amount=None,
                currency=None,
                occurred_at=occurred_at,
                click_id=click_id,
                code=code,
                partner_id=None,
                customer_email=email,
                sale_event_id=None,
                processor_ref=None,
                raw=event,
            )
        )
    paid = session.get("payment_status") in ("paid", "no_payment_required")
    # The invoice a session created reports this money itself (invoice.paid); see the module docstring.
    carried_by_invoice = bool(_id_of(session.get("invoice"))) or session.get("mode") == "subscription"
    amount_total = session.get("amount_total")
    if paid and not carried_by_invoice and amount_total:
        currency = _currency(session.get("currency"))
        out.append(
            IncomingEvent(
                kind="sale",
                event_id=event_id,
                customer_external_id=customer,
                amount=minor_to_decimal(amount_total, currency),
                currency=currency,
                occurred_at=occurred_at,
                click_id=click_id,
                code=code,
                partner_id=None,
                customer_email=email,
                sale_event_id=None,
                processor_ref=_sale_ref(payment_intent=_id_of(session.get("payment_intent")), fallback=_id_of(session)),
                raw=event,
            )
        )
    return out


def _invoice_payment_intent(invoice: dict[str, Any]) -> str | None:
    direct = _id_of(invoice.get("payment_intent"))  # API versions before 2025-03-31
    if direct:
        return direct
    payments = (invoice.get("payments") or {}).get("data") or []  # later ones, when included
    for payment in payments:
        if isinstance(payment, dict) and payment.get("status") in (None, "paid"):
            found = _id_of((payment.get("payment") or {}).get("payment_intent"))
            if found:
                return found
    return None


def _invoice_paid(event: dict[str, Any], invoice: dict[str, Any]) -> list[IncomingEvent]:
    event_id = f"stripe:{event['id']}"
    customer = _id_of(invoice.get("customer"))
    if not customer:
        raise UnusableEvent("The invoice names no customer.")
    amount_paid = invoice.get("amount_paid")
    if not amount_paid:
        return []  # a trial or fully discounted invoice: no money, no sale
    currency = _currency(invoice.get("currency"))
    email = str(invoice.get("customer_email") or "").strip().lower() or None
    occurred_at = _when((invoice.get("status_transitions") or {}).get("paid_at")) or _when(event.get("created"))
    # Subscription metadata travels on the invoice (subscription_details before 2025-03-31, parent after).
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    click_id, code = _referral_hints(
        invoice.get("metadata"),
        (invoice.get("subscription_details") or {}).get("metadata"),
        parent.get("metadata"),
    )
    out: list[IncomingEvent] = []
    if click_id or code:
        out.append(
            IncomingEvent(
                kind="lead",
                event_id=f"{event_id}:lead",
                customer_external_id=customer,
                amount=None,
                currency=None,
                occurred_at=occurred_at,
                click_id=click_id,
                code=code,
                partner_id=None,
                customer_email=email,
                sale_event_id=None,
                processor_ref=None,
                raw=event,
            )
        )
    out.append(
        IncomingEvent(
            kind="sale",
            event_id=event_id,
            customer_external_id=customer,
            amount=minor_to_decimal(amount_paid, currency),
            currency=currency,
            occurred_at=occurred_at,
            click_id=click_id,
            code=code,
            partner_id=None,
            customer_email=email,
            sale_event_id=None,
            processor_ref=_sale_ref(payment_intent=_invoice_payment_intent(invoice), invoice=_id_of(invoice)),
            raw=event,
        )
    )
    return out


def _charge_refunded(event: dict[str, Any], charge: dict[str, Any]) -> list[IncomingEvent]:
    currency = _currency(charge.get("currency"))
    customer = _id_of(charge.get("customer"))
    sale_ref = _sale_ref(
        payment_intent=_id_of(charge.get("payment_intent")),
        invoice=_id_of(charge.get("invoice")),
        fallback=_id_of(charge),
    )
    refunds = charge.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, dict) else None
    if isinstance(listed, list) and listed:
        # One event per refund, named by Stripe's refund id: the list is cumulative, so a refund
        # seen again in a later charge.refunded is the same event, not a second refund.
        return [
            IncomingEvent(
                kind="refund",
                event_id=f"stripe:{refund['id']}",
                customer_external_id=customer,
                amount=minor_to_decimal(refund.get("amount"), currency),
                currency=currency,
                occurred_at=_when(refund.get("created")) or _when(event.get("created")),
                click_id=None,
                code=None,
                partner_id=None,
                customer_email=None,
                sale_event_id=sale_ref,
                processor_ref=f"stripe:{refund['id']}",
                raw=event,
            )
            for refund in listed
            if isinstance(refund, dict) and refund.get("id") and refund.get("status") not in ("failed", "canceled")
        ]
    # Since API version 2022-11-15 the charge no longer lists its refunds: what this event
    # refunded is the growth of amount_refunded since the previous state.
    previous = (event.get("data") or {}).get("previous_attributes") or {}
    now_refunded = charge.get("amount_refunded")
    if "amount_refunded" in previous:
        delta = (now_refunded or 0) - (previous.get("amount_refunded") or 0)
        amount: Decimal | None = minor_to_decimal(delta, currency)
        if delta <= 0:
            return []
    elif charge.get("refunded"):
        amount = None  # fully refunded, earlier steps unknown: the rest of the sale
    else:
        raise UnusableEvent(
            "The event lists no refunds and no previous amount_refunded, so the refund amount is unknown."
        )
    return [
        IncomingEvent(
            kind="refund",
            event_id=f"stripe:{event['id']}",
            customer_external_id=customer,
            amount=amount,
            currency=currency,
            occurred_at=_when(event.get("created")),
            click_id=None,
            code=None,
            partner_id=None,
            customer_email=None,
            sale_event_id=sale_ref,
            processor_ref=None,
            raw=event,
        )
    ]


def map_event(event: dict[str, Any]) -> list[IncomingEvent] | None:
    """The inbound events one Stripe event means; None for types Tandem does not use."""
    kind = event.get("type")
    if kind not in HANDLED_TYPES:
        return None
    obj = (event.get("data") or {}).get("object")
    if not isinstance(obj, dict):
        raise UnusableEvent("The event carries no data.object.")
    if kind == "checkout.session.completed":
        return _checkout_session(event, obj, completed=True)
    if kind == "checkout.session.async_payment_succeeded":
        return _checkout_session(event, obj, completed=False)
    if kind == "invoice.paid":
        return _invoice_paid(event, obj)
    return _charge_refunded(event, obj)


# --- The receiver -------------------------------------------------------------------------------------


def receive(*, workspace: Workspace, payload: bytes, signature_header: str | None) -> WebhookResult:
    """Verify one delivery and hand its events to the inbox; raise WebhookRejected, writing nothing, if refused."""
    settings = IntegrationSettings.objects.filter(workspace=workspace).first()
    if settings is None or not settings.stripe_signing_secret:
        raise WebhookRejected(
            400,
            "not_configured",
            "Stripe is not connected to this workspace yet: set the endpoint's signing secret in Tandem.",
        )
    verify_signature(payload=payload, header=signature_header, secret=settings.stripe_signing_secret)
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise WebhookRejected(400, "invalid_payload", "The body is not JSON.") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise WebhookRejected(400, "invalid_payload", "The body is not a Stripe event.")
    if event["type"] not in HANDLED_TYPES:
        return WebhookResult(ignored=f"Tandem does not use {event['type']} events.")
    unusable = find_unusable_text(event)
    if unusable is not None:
        return _keep_unusable(workspace, event, f"the field {unusable[0] or 'id'}: {unusable[1]}")
    try:
        events = map_event(event)
    except (UnusableEvent, KeyError, TypeError, AttributeError, ValueError, ArithmeticError, OSError) as exc:
        # A signed but oddly shaped event: Stripe would resend the same payload for three days.
        return _keep_unusable(
            workspace, event, str(exc) if isinstance(exc, UnusableEvent) else "its shape is not Stripe's."
        )
    if events is None:
        return WebhookResult(ignored=f"Tandem does not use {event['type']} events.")
    if not events:
        return WebhookResult(ignored=f"This {event['type']} event carries no lead, sale or refund.")
    try:
        with transaction.atomic():
            receipts = accept_events(workspace=workspace, events=events, source=SOURCE)
    except InvalidEvents as exc:
        details = "; ".join(
            f"{name}: {' '.join(msgs)}" for found in exc.problems.values() for name, msgs in found.items()
        )
        return _keep_unusable(workspace, event, details)
    return WebhookResult(receipts=list(receipts))


def _keep_unusable(workspace: Workspace, event: dict[str, Any], why: str) -> WebhookResult:
    kind = "refund" if event["type"] == "charge.refunded" else "sale"
    return record_unusable(
        workspace=workspace,
        source=SOURCE,
        event_id=f"stripe:{event['id']}",
        kind=kind,
        reason=f"Tandem cannot use this {event['type']} event: {why}",
        raw=event,
    )
