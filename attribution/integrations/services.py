"""Writes and reads of a workspace's integration settings (Stripe signing secret, HubSpot app)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import record_audit
from attribution.integrations.models import IntegrationSettings
from core.iso import CURRENCIES
from core.sealed import seal, unseal

_STRIPE_SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9+/=_-]{16,200}$")
_STAGE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def settings_for(workspace: Workspace) -> IntegrationSettings:
    """The workspace's settings; an unsaved blank row when nothing was ever set (reads never write)."""
    found = IntegrationSettings.objects.filter(workspace=workspace).first()
    return found or IntegrationSettings(workspace=workspace)


def _locked_settings(workspace: Workspace) -> IntegrationSettings:
    row, _ = IntegrationSettings.objects.select_for_update().get_or_create(workspace=workspace)
    return row


def validate_stripe_signing_secret(raw: str) -> str:
    secret = (raw or "").strip()
    if not _STRIPE_SECRET_RE.match(secret):
        raise ValidationError(
            {"signing_secret": ["Paste the endpoint's signing secret from Stripe: it starts with whsec_."]}
        )
    return secret


@transaction.atomic
def set_stripe_signing_secret(
    *, workspace: Workspace, signing_secret: str, by: User | None, actor_label: str | None = None
) -> IntegrationSettings:
    """Store the Stripe endpoint's signing secret. Setting the same secret again changes nothing."""
    secret = validate_stripe_signing_secret(signing_secret)
    row = _locked_settings(workspace)
    if row.stripe_signing_secret == secret:
        return row
    replaced = bool(row.stripe_signing_secret)
    row.stripe_signing_secret = secret
    row.stripe_secret_set_at = timezone.now()
    row.updated_by = by
    row.save(update_fields=["stripe_signing_secret", "stripe_secret_set_at", "updated_by", "updated_at"])
    # The audit entry says that the secret changed, never what it is.
    record_audit(
        workspace=workspace,
        actor=by,
        actor_label=actor_label,
        action="integrations.stripe_secret_set",
        target=row,
        changes={"replaced": replaced},
    )
    return row


_STRIPE_API_KEY_RE = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,240}$")


def validate_stripe_secret_key(raw: str) -> str:
    key = (raw or "").strip()
    if not _STRIPE_API_KEY_RE.match(key):
        raise ValidationError(
            {
                "secret_key": [
                    "Paste a secret key from Stripe's dashboard: it starts with sk_live_ or sk_test_ (or rk_ for a restricted key)."
                ]
            }
        )
    return key


@transaction.atomic
def set_stripe_secret_key(
    *, workspace: Workspace, secret_key: str, by: User | None, actor_label: str | None = None
) -> IntegrationSettings:
    """Store the Stripe secret key that pays partners by Stripe Transfer, sealed. The same key again changes nothing."""
    key = validate_stripe_secret_key(secret_key)
    row = _locked_settings(workspace)
    if row.stripe_secret_key_sealed and stripe_secret_key(row) == key:
        return row
    replaced = bool(row.stripe_secret_key_sealed)
    row.stripe_secret_key_sealed = seal(key)
    row.stripe_secret_key_set_at = timezone.now()
    row.updated_by = by
    row.save(update_fields=["stripe_secret_key_sealed", "stripe_secret_key_set_at", "updated_by", "updated_at"])
    record_audit(
        workspace=workspace,
        actor=by,
        actor_label=actor_label,
        action="integrations.stripe_secret_key_set",
        target=row,
        changes={"replaced": replaced, "mode": "live" if "_live_" in key else "test"},
    )
    return row


def stripe_secret_key(row: IntegrationSettings) -> str:
    """The workspace's Stripe secret key in full (for calls to Stripe only), or an empty string."""
    return unseal(row.stripe_secret_key_sealed) if row.stripe_secret_key_sealed else ""


def parse_stage_ids(raw: str | list[str]) -> list[str]:
    """Stage ids from a comma- or line-separated list; HubSpot's ids are short tokens."""
    items = raw if isinstance(raw, list) else re.split(r"[,\n]", raw or "")
    stages: list[str] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        if not _STAGE_RE.match(item):
            raise ValidationError({"closed_won_stages": [f"“{item}” is not a HubSpot deal stage id."]})
        if item not in stages:
            stages.append(item)
    if not stages:
        raise ValidationError({"closed_won_stages": ["Name at least one stage, such as closedwon."]})
    return stages


@transaction.atomic
def set_hubspot_settings(
    *,
    workspace: Workspace,
    by: User | None,
    app_id: str,
    client_secret: str | None,
    closed_won_stages: str | list[str],
    default_currency: str = "",
) -> IntegrationSettings:
    """Save the HubSpot app's settings. An empty `client_secret` keeps the stored one."""
    errors: dict[str, list[str]] = {}
    app_id = (app_id or "").strip()
    if app_id and not app_id.isdigit():
        errors["app_id"] = ["HubSpot app ids are numbers."]
    secret = (client_secret or "").strip()
    if secret and (len(secret) < 16 or any(c.isspace() for c in secret)):
        errors["client_secret"] = ["Paste the app's client secret from HubSpot (Auth tab), without spaces."]
    currency = (default_currency or "").strip().upper()
    if currency and currency not in CURRENCIES:
        errors["default_currency"] = [f"“{currency}” is not an ISO 4217 currency code, such as USD or EUR."]
    try:
        stages = parse_stage_ids(closed_won_stages)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    row = _locked_settings(workspace)
    row.hubspot_app_id = app_id
    row.hubspot_closed_won_stages = stages
    row.hubspot_default_currency = currency
    fields = ["hubspot_app_id", "hubspot_closed_won_stages", "hubspot_default_currency", "updated_by", "updated_at"]
    secret_changed = bool(secret) and secret != row.hubspot_client_secret
    if secret_changed:
        row.hubspot_client_secret = secret
        row.hubspot_secret_set_at = timezone.now()
        fields += ["hubspot_client_secret", "hubspot_secret_set_at"]
    row.updated_by = by
    row.save(update_fields=fields)
    record_audit(
        workspace=workspace,
        actor=by,
        action="integrations.hubspot_updated",
        target=row,
        changes={
            "app_id": app_id,
            "closed_won_stages": stages,
            "default_currency": currency,
            "secret_changed": secret_changed,
        },
    )
    return row
