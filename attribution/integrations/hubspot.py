"""HubSpot webhooks: verify the v3 signature, then turn deals moved to a closed-won stage into sales.

HubSpot sends a JSON array of subscription events. A `deal.propertyChange` on `dealstage` whose
new value is one of the workspace's closed-won stage ids becomes a sale keyed `hubspot:deal:<id>`,
so the same deal won twice (or delivered twice) is still one sale.

A property-change event names only the deal, so the tenant's HubSpot workflow may add fields to
each event (top level or under `properties`): `amount`, `currency`, `contact_email`,
`company_domain`, `customer_id`. Without an amount the sale is still recorded, unattributed with
the reason "deal amount unknown", so that nothing is lost while the workflow is fixed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from accounts.models import Workspace
from attribution.inbox import EventReceipt, IncomingEvent, InvalidEvents, accept_events
from attribution.integrations.models import DEFAULT_HUBSPOT_CLOSED_WON_STAGES, IntegrationSettings
from attribution.integrations.webhooks import WebhookRejected, WebhookResult, record_unusable
from attribution.models import InboundEvent
from core.iso import CURRENCIES
from core.text import find_unusable_text
from referrals.models import DealRegistration

SOURCE = "hubspot"
MAX_AGE_MS = 5 * 60 * 1000
AMOUNT_UNKNOWN = "deal amount unknown"
_DEAL_CHANGE_TYPES = frozenset({"deal.propertyChange", "object.propertyChange"})
_DEAL_OBJECT_TYPE = "0-3"
# HubSpot signs the URI with these characters decoded (its request-validation guide lists them).
_DECODED_IN_URI = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_FIELD_NAMES = {
    "amount": ("amount", "dealAmount", "deal_amount"),
    "currency": ("currency", "deal_currency_code", "dealCurrencyCode"),
    "email": ("contact_email", "contactEmail", "email"),
    "domain": ("company_domain", "companyDomain", "domain"),
    "customer": ("customer_id", "customerId", "customer_external_id"),
}


# --- Verification ---------------------------------------------------------------------------------


def signature_v3(*, client_secret: str, method: str, uri: str, body: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(client secret, method + URI + body + timestamp))."""
    message = f"{method}{uri}{body}{timestamp}".encode()
    return base64.b64encode(hmac.new(client_secret.encode(), message, hashlib.sha256).digest()).decode()


def normalize_uri(uri: str) -> str:
    return _DECODED_IN_URI.sub(lambda m: unquote(m.group(0)), uri)


def verify_signature(
    *,
    client_secret: str,
    method: str,
    uris: list[str],
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now_ms: int | None = None,
) -> None:
    """Raise WebhookRejected unless one of the URIs the request may have been sent to verifies.

    `uris` holds the URL as this server sees it and as the public site names it: behind a proxy
    they can differ, and HubSpot signed the one it was configured with.
    """
    if not signature or not timestamp:
        raise WebhookRejected(
            401, "invalid_signature", "X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp are required."
        )
    try:
        sent_ms = int(timestamp)
    except ValueError as exc:
        raise WebhookRejected(401, "invalid_signature", "X-HubSpot-Request-Timestamp is not a number.") from exc
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    if now_ms - sent_ms > MAX_AGE_MS:
        raise WebhookRejected(401, "stale_request", "The request is more than 5 minutes old.")
    if sent_ms - now_ms > MAX_AGE_MS:
        raise WebhookRejected(401, "stale_request", "The request timestamp is more than 5 minutes ahead.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookRejected(400, "invalid_payload", "The body is not UTF-8 text.") from exc
    for uri in dict.fromkeys(normalize_uri(u) for u in uris):
        expected = signature_v3(client_secret=client_secret, method=method, uri=uri, body=text, timestamp=timestamp)
        if hmac.compare_digest(expected.encode(), signature.strip().encode()):
            return
    raise WebhookRejected(401, "invalid_signature", "The X-HubSpot-Signature-v3 header does not verify.")


# --- Mapping ----------------------------------------------------------------------------------------


def _field(event: dict[str, Any], name: str) -> Any:
    found = event.get("properties")
    properties: dict[str, Any] = found if isinstance(found, dict) else {}
    for key in _FIELD_NAMES[name]:
        for source in (event, properties):
            value = source.get(key)
            if isinstance(value, dict):  # HubSpot's {"value": ...} property shape
                value = value.get("value")
            if value not in (None, ""):
                return value
    return None


def _amount(raw: Any) -> Decimal | None:
    if raw is None or isinstance(raw, bool):
        return None
    try:
        amount = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _occurred_at(occurred: Any) -> datetime | None:
    """HubSpot's milliseconds since 1970; a value no calendar can hold (1e20) is as good as none."""
    if not isinstance(occurred, int) or isinstance(occurred, bool) or occurred <= 0:
        return None
    try:
        return datetime.fromtimestamp(occurred / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _is_closed_won(event: dict[str, Any], stages: list[str]) -> bool:
    if event.get("subscriptionType") not in _DEAL_CHANGE_TYPES:
        return False
    if event.get("subscriptionType") == "object.propertyChange" and str(event.get("objectTypeId")) != _DEAL_OBJECT_TYPE:
        return False
    return event.get("propertyName") == "dealstage" and str(event.get("propertyValue")) in stages


def _registered_contact(workspace: Workspace, domain: str) -> str | None:
    """The contact email of the approved registration for a company domain, so the engine's
    email match also finds deals HubSpot reports by company only."""
    registration = (
        DealRegistration.objects.for_workspace(workspace)
        .filter(company_domain__iexact=domain, status=DealRegistration.Status.APPROVED)
        .order_by("created_at")
        .first()
    )
    return registration.contact_email.lower() if registration else None


def map_events(
    *,
    workspace: Workspace,
    payload: list[dict[str, Any]],
    stages: list[str],
    app_id: str,
    default_currency: str,
) -> list[IncomingEvent]:
    out: list[IncomingEvent] = []
    for event in payload:
        if not isinstance(event, dict) or not _is_closed_won(event, stages):
            continue
        if app_id and str(event.get("appId", app_id)) != app_id:
            continue  # another app's subscription pointed here; not this workspace's deal
        deal_id = str(event.get("objectId") or "").strip()
        if not deal_id.isdigit():
            continue
        email = str(_field(event, "email") or "").strip().lower() or None
        if email and not _EMAIL.match(email):
            email = None
        domain = str(_field(event, "domain") or "").strip().lower().removeprefix("www.") or None
        if email is None and domain:
            email = _registered_contact(workspace, domain)
        customer = str(_field(event, "customer") or "").strip() or email or f"hubspot:deal:{deal_id}"
        amount = _amount(_field(event, "amount"))
        currency = str(_field(event, "currency") or default_currency or "").strip().upper() or None
        if currency and currency not in CURRENCIES:
            currency = None
        occurred = event.get("occurredAt")
        occurred_at = _occurred_at(occurred)
        out.append(
            IncomingEvent(
                # HubSpot does not promise unique eventIds; a retry keeps occurredAt, a second win does not.
                kind="sale",
                event_id=f"hubspot:deal:{deal_id}:won:{occurred or event.get('eventId')}",
                customer_external_id=customer,
                amount=amount,
                currency=currency,
                occurred_at=occurred_at,
                click_id=None,
                code=None,
                partner_id=None,
                customer_email=email,
                sale_event_id=None,
                processor_ref=f"hubspot:deal:{deal_id}",
                raw=dict(event),
            )
        )
    return out


# --- The receiver -------------------------------------------------------------------------------------


def receive(
    *,
    workspace: Workspace,
    method: str,
    uris: list[str],
    payload: bytes,
    signature: str | None,
    timestamp: str | None,
) -> WebhookResult:
    """Verify one delivery and hand its closed-won deals to the inbox; raise WebhookRejected, writing nothing, if refused."""
    settings = IntegrationSettings.objects.filter(workspace=workspace).first()
    if settings is None or not settings.hubspot_client_secret:
        raise WebhookRejected(
            400,
            "not_configured",
            "HubSpot is not connected to this workspace yet: set the app's client secret in Tandem.",
        )
    verify_signature(
        client_secret=settings.hubspot_client_secret,
        method=method,
        uris=uris,
        body=payload,
        signature=signature,
        timestamp=timestamp,
    )
    try:
        body = json.loads(payload, parse_float=Decimal)  # amounts stay exact, never floats
    except ValueError as exc:
        raise WebhookRejected(400, "invalid_payload", "The body is not JSON.") from exc
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        raise WebhookRejected(400, "invalid_payload", "The body is not a list of HubSpot events.")
    stages = list(settings.hubspot_closed_won_stages or DEFAULT_HUBSPOT_CLOSED_WON_STAGES)
    # A signed event with text Tandem cannot store is kept, failed with the reason, and the rest still count.
    kept: list[EventReceipt] = []
    usable: list[Any] = []
    for item in body:
        found = find_unusable_text(item)
        if found is None:
            usable.append(item)
        elif isinstance(item, dict) and _is_closed_won_shape(item, stages):
            reason = f"Tandem cannot use this HubSpot event: the field {found[0]}: {found[1]}"
            kept += record_unusable(
                workspace=workspace,
                source=SOURCE,
                kind="sale",
                reason=reason,
                raw=item,
                event_id=f"hubspot:event:{item.get('eventId')}",
            ).receipts
    try:
        events = map_events(
            workspace=workspace,
            payload=usable,
            stages=stages,
            app_id=settings.hubspot_app_id,
            default_currency=settings.hubspot_default_currency,
        )
    except (KeyError, TypeError, AttributeError, ValueError, ArithmeticError, OSError):
        return record_unusable(
            workspace=workspace,
            source=SOURCE,
            kind="sale",
            raw=body,
            event_id=f"hubspot:delivery:{timestamp}",
            reason="Tandem cannot use this HubSpot delivery: its shape is not HubSpot's.",
        )
    if not events:
        if kept:
            return WebhookResult(
                receipts=kept, ignored="Some events carry text Tandem cannot store; see the events page."
            )
        return WebhookResult(ignored="No deal moved to a closed-won stage in this delivery.")
    priced = []
    for event in (e for e in events if e.amount is not None and e.currency):
        if problems := event.problems():
            details = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in problems.items())
            kept += record_unusable(
                workspace=workspace,
                source=SOURCE,
                kind="sale",
                raw=event.raw,
                event_id=event.event_id,
                reason=f"Tandem cannot use this deal: {details}",
            ).receipts
        else:
            priced.append(event)
    unpriced = [e for e in events if not (e.amount is not None and e.currency)]
    try:
        with transaction.atomic():
            receipts = accept_events(workspace=workspace, events=priced, source=SOURCE) if priced else []
            receipts += record_unpriced(workspace=workspace, events=unpriced)
    except InvalidEvents as exc:
        details = "; ".join(
            f"{name}: {' '.join(msgs)}" for found in exc.problems.values() for name, msgs in found.items()
        )
        return record_unusable(
            workspace=workspace,
            source=SOURCE,
            kind="sale",
            raw=body,
            event_id=f"hubspot:delivery:{timestamp}",
            reason=f"Tandem cannot use these deals: {details}",
        )
    order = {e.event_id: i for i, e in enumerate(events)}
    return WebhookResult(receipts=kept + sorted(receipts, key=lambda r: order.get(r.event_id, 0)))


def _is_closed_won_shape(event: dict[str, Any], stages: list[str]) -> bool:
    try:
        return _is_closed_won(event, stages)
    except (TypeError, ValueError):
        return False


def record_unpriced(*, workspace: Workspace, events: list[IncomingEvent]) -> list[EventReceipt]:
    """Keep won deals whose amount (or currency) the payload lacks, unattributed with the reason.

    The inbox refuses a sale without an amount, rightly: nothing could be computed from it. The
    deal is still a fact the manager should see, so it is stored as the inbox stores events
    (same table, same uniqueness) but already settled, and never processed.
    """
    receipts: list[EventReceipt] = []
    now = timezone.now()
    for event in events:
        reason = AMOUNT_UNKNOWN if event.amount is None else "deal currency unknown"
        _, created = InboundEvent.objects.get_or_create(
            workspace=workspace,
            event_id=event.event_id,
            defaults={
                "kind": InboundEvent.Kind.SALE,
                "source": InboundEvent.Source.HUBSPOT,
                "processor_ref": event.processor_ref or "",
                "payload": json.loads(json.dumps(event.to_payload(received_at=now), cls=DjangoJSONEncoder)),
                "status": InboundEvent.Status.UNATTRIBUTED,
                "reason": reason,
                "reason_code": reason.replace(" ", "_"),
                "received_at": now,
                "processed_at": now,
            },
        )
        receipts.append(EventReceipt(event_id=event.event_id, status="accepted" if created else "duplicate"))
    return receipts
