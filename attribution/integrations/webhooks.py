"""What the Stripe and HubSpot receivers share: the rejection they raise, the receipt they return, and
how a signed delivery Tandem cannot use is kept."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from accounts.models import Workspace
from attribution.inbox import EventReceipt
from attribution.models import InboundEvent
from core.text import unusable_character

UNUSABLE_CODE = "unusable_webhook"


class WebhookRejected(Exception):
    """A delivery we refuse, with the HTTP status and a reason the tenant can act on. Nothing was written."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class WebhookResult:
    """What one accepted delivery became: the inbox's receipts, or why it was ignored."""

    receipts: list[Any] = field(default_factory=list)
    ignored: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "received": True,
            "events": [{"event_id": r.event_id, "status": r.status} for r in self.receipts],
        }
        if self.ignored:
            body["ignored"] = self.ignored
        return body


def _usable_copy(value: Any) -> Any:
    """`value` with every unusable character replaced by U+FFFD, so the payload can be kept for display."""
    if isinstance(value, str):
        if unusable_character(value) is None:
            return value
        return "".join("\ufffd" if unusable_character(char) else char for char in value)
    if isinstance(value, dict):
        return {_usable_copy(str(k)): _usable_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_usable_copy(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def record_unusable(
    *, workspace: Workspace, source: str, event_id: str, kind: str, reason: str, raw: Any
) -> WebhookResult:
    """Keep a signed delivery Tandem cannot use as a failed event on the events page, and acknowledge it.

    The sender signed it, so sending it again would bring the same payload: a 2xx stops the
    retries (Stripe's last three days), and the reason is where the tenant looks for events.
    """
    event_id = (
        event_id
        if unusable_character(event_id) is None and len(event_id) <= 200
        else (
            f"{source}:unusable:{hashlib.sha256(json.dumps(_usable_copy(raw), sort_keys=True, default=str).encode()).hexdigest()[:40]}"
        )
    )
    now = timezone.now()
    payload = json.loads(json.dumps({"raw": _usable_copy(raw)}, cls=DjangoJSONEncoder))
    _, created = InboundEvent.objects.get_or_create(
        workspace=workspace,
        event_id=event_id,
        defaults={
            "kind": kind,
            "source": source,
            "payload": payload,
            "status": InboundEvent.Status.FAILED,
            "reason": reason,
            "reason_code": UNUSABLE_CODE,
            "received_at": now,
            "processed_at": now,
        },
    )
    receipt = EventReceipt(event_id=event_id, status="accepted" if created else "duplicate")
    return WebhookResult(receipts=[receipt], ignored=reason)
