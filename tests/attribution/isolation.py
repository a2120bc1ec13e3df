"""The attribution app's part of the isolation registry (see tests/isolation.py).

The integrations (webhooks, CSV import) keep theirs in isolation_integrations.py, loaded beside this one.
"""

from __future__ import annotations

from tests.attribution.factories import CommissionFactory, InboundEventFactory

FOREIGN_PARAMS = {
    "commission_id": lambda workspace: CommissionFactory(workspace=workspace).pk,
    # GET /api/v1/events/{event_id}: the tenant's own id of an event the other workspace received.
    "event_id": lambda workspace: InboundEventFactory(workspace=workspace, event_id="their-event-1").event_id,
    # The page that credits an event to a partner names it by its row id.
    "event_pk": lambda workspace: InboundEventFactory(workspace=workspace, event_id="their-event-2").pk,
}

PUBLIC_ROUTES: dict[str, str] = {}

REQUEST_DATA = {
    # A valid new version, so the POST gets past validation to the program lookup (which must 404).
    "api:list_rewards": {"name": "Isolation check", "sale_value": "10"},
    # A well-formed body, so the POST gets past validation to the event lookup (which must 404).
    "api:assign_event": {"partner_id": 1},
}
