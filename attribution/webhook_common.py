"""What the Stripe and HubSpot receivers share: the rejection they raise and the receipt they return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
