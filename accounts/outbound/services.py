"""Writes of webhook endpoints: register, change, remove, resend. Each is audited."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User, Workspace
from accounts.outbound.delivery import resend
from accounts.outbound.events import EVENT_TYPES, forget_subscriptions
from accounts.outbound.guard import UnsafeDestination, check_registration
from accounts.outbound.models import WebhookDelivery, WebhookEndpoint
from accounts.outbound.signing import new_secret
from accounts.services import record_audit
from core.sealed import seal

MAX_URL_LENGTH = 2000


def clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": ["Enter the URL Tandem should send events to."]})
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError({"url": [f"Use at most {MAX_URL_LENGTH} characters."]})
    try:
        check_registration(url)
    except UnsafeDestination as exc:
        raise ValidationError({"url": [str(exc)]}) from exc
    return url


def clean_events(events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    unknown = [name for name in chosen if name not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            {"events": [f"Unknown event {', '.join(unknown)}; choose from {', '.join(EVENT_TYPES)}."]}
        )
    if not chosen:
        raise ValidationError({"events": ["Choose at least one event."]})
    return [name for name in EVENT_TYPES if name in chosen]


@transaction.atomic
def create_endpoint(
    *,
    workspace: Workspace,
    url: str,
    events: Iterable[str],
    description: str = "",
    by: User | None,
    actor_label: str | None = None,
) -> WebhookEndpoint:
    """A new endpoint with a new secret (readable on the returned object, to show once)."""
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url=clean_url(url),
        events=clean_events(events),
        description=(description or "").strip()[:200],
        secret_sealed=seal(new_secret()),
    )
    record_audit(
        workspace=workspace,
        actor=by,
        actor_label=actor_label,
        action="webhook_endpoint.created",
        target=endpoint,
        changes={"url": [None, endpoint.url], "events": [None, endpoint.events]},
    )
    forget_subscriptions(workspace.pk)
    return endpoint


@transaction.atomic
def update_endpoint(
    *,
    endpoint: WebhookEndpoint,
    by: User | None,
    actor_label: str | None = None,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change what was given; turning an endpoint on again clears why it was off."""
    new: dict[str, object] = {}
    if url is not None:
        new["url"] = clean_url(url)
    if events is not None:
        new["events"] = clean_events(events)
    if description is not None:
        new["description"] = description.strip()[:200]
    if enabled is not None:
        new["enabled"] = enabled
    changes = {
        name: [getattr(endpoint, name), value] for name, value in new.items() if getattr(endpoint, name) != value
    }
    if not changes:
        return endpoint
    for name, value in new.items():
        setattr(endpoint, name, value)
    fields = [*changes, "updated_at"]
    if changes.get("enabled", [None, None])[1] is True:
        endpoint.disabled_reason = ""
        fields.append("disabled_reason")
    endpoint.save(update_fields=fields)
    record_audit(
        workspace=endpoint.workspace,
        actor=by,
        actor_label=actor_label,
        action="webhook_endpoint.changed",
        target=endpoint,
        changes=changes,
    )
    forget_subscriptions(endpoint.workspace_id)
    return endpoint


@transaction.atomic
def delete_endpoint(*, endpoint: WebhookEndpoint, by: User | None, actor_label: str | None = None) -> None:
    """Remove the endpoint and its delivery log."""
    record_audit(
        workspace=endpoint.workspace,
        actor=by,
        actor_label=actor_label,
        action="webhook_endpoint.deleted",
        target=endpoint,
        changes={"url": [endpoint.url, None]},
    )
    WebhookDelivery.objects.filter(workspace_id=endpoint.workspace_id, endpoint_id=endpoint.id).delete()
    WebhookEndpoint.objects.filter(workspace_id=endpoint.workspace_id, id=endpoint.id).delete()
    forget_subscriptions(endpoint.workspace_id)


@transaction.atomic
def resend_delivery(*, delivery: WebhookDelivery, by: User | None, actor_label: str | None = None) -> WebhookDelivery:
    """Send a logged delivery again, with its webhook-id, whatever became of it."""
    record_audit(
        workspace=delivery.workspace,
        actor=by,
        actor_label=actor_label,
        action="webhook_delivery.resent",
        target=delivery,
        changes={"endpoint": delivery.endpoint_id, "event": delivery.event_type},
    )
    return resend(delivery)
