"""The accounts app's part of the isolation registry (see tests/isolation.py)."""

from __future__ import annotations

from accounts.models import Workspace
from accounts.services import create_api_key
from tests.accounts.factories import DomainFactory, MembershipFactory, StaffInvitationFactory

FOREIGN_PARAMS = {
    "membership_id": lambda workspace: MembershipFactory(workspace=workspace).pk,
    "invitation_id": lambda workspace: StaffInvitationFactory(workspace=workspace).pk,
    "key_id": lambda workspace: _api_key_id(workspace),
    "domain_id": lambda workspace: DomainFactory(workspace=workspace).pk,
    "endpoint_id": lambda workspace: _webhook_endpoint_id(workspace),
    "delivery_id": lambda workspace: _webhook_delivery_id(workspace),
}


def _api_key_id(workspace: Workspace) -> int:
    api_key, _ = create_api_key(workspace=workspace, name="Foreign key", created_by=None)
    return api_key.pk


def _webhook_endpoint_id(workspace: Workspace) -> str:
    from accounts.outbound.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(
        workspace=workspace, url="https://hooks.example.com/", events=["partner.created"], secret_sealed="-"
    ).id


def _webhook_delivery_id(workspace: Workspace) -> str:
    from accounts.outbound.models import WebhookDelivery

    return WebhookDelivery.objects.create(
        workspace=workspace, endpoint_id=_webhook_endpoint_id(workspace), event_type="partner.created", body="{}"
    ).id


PUBLIC_ROUTES = {
    "home": "sends a signed-in person to their own workspace, or lists only their own memberships",
    "healthz": "the database and broker state for load balancers; no tenant data",
    "login": "signing in comes before any workspace",
    "logout": "signing out",
    "password_reset": "asking for a reset link; answers the same whether the address exists or not",
    "password_reset_done": "a static 'check your email' page",
    "password_reset_confirm": "guarded by the signed one-time token in the URL",
    "password_reset_complete": "a static 'password saved' page",
    "accept_invitation": "guarded by the signed, expiring invitation token in the URL",
    "admin:login": "operators sign in to the admin here; every other admin URL is checked to redirect here",
    "admin:logout": "signing out of the admin (a GET only redirects to the admin's index)",
    "api:openapi-json": "the API's published schema",
    "api:openapi-view": "the API's published docs",
    "api_not_found": "any other path under /api/ or /webhooks/ answers the JSON 404, and reads nothing",
}
