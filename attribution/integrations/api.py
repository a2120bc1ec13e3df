"""`/api/v1/integrations/stripe`: set the Stripe signing secret, or ask whether one is set."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from accounts.api_platform import ApiError, actor_label, workspace_of
from attribution.integrations import services
from attribution.integrations.models import IntegrationSettings

router = Router(tags=["integrations"])
# OpenAPI operation ids default to the module path; these keep the ids of the module's first home
# (attribution/integration_api.py), which clients were generated from.
_OPERATION_PREFIX = "attribution_integration_api_"
# services.validate_stripe_signing_secret's rule, without the surrounding spaces it forgives.
STRIPE_SECRET_PATTERN = r"^whsec_[A-Za-z0-9+/=_-]{16,200}$"


STRIPE_API_KEY_PATTERN = r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,240}$"


class StripeSecretIn(Schema):
    model_config = ConfigDict(extra="forbid")

    signing_secret: str | None = Field(
        default=None,
        pattern=STRIPE_SECRET_PATTERN,
        max_length=206,
        description="The endpoint's signing secret from Stripe's dashboard: whsec_ and 16-200 more",
    )
    secret_key: str | None = Field(
        default=None,
        pattern=STRIPE_API_KEY_PATTERN,
        max_length=250,
        description="The secret API key that pays partners by Stripe Transfer (sk_live_…, sk_test_… or a "
        "restricted rk_ key); kept sealed and never shown back",
    )


class StripeStatusOut(Schema):
    signing_secret_set: bool
    set_at: str | None
    secret_key_set: bool
    secret_key_set_at: str | None
    webhook_path: str


def _stripe_status(row: IntegrationSettings) -> dict[str, Any]:
    # Never the secret itself: a leaked API key must not also leak the means to forge Stripe events.
    return {
        "signing_secret_set": row.stripe_connected,
        "set_at": row.stripe_secret_set_at.isoformat() if row.stripe_secret_set_at else None,
        "secret_key_set": row.stripe_secret_key_set,
        "secret_key_set_at": row.stripe_secret_key_set_at.isoformat() if row.stripe_secret_key_set_at else None,
        "webhook_path": f"/webhooks/stripe/{row.workspace.slug}/",
    }


@router.get(
    "/integrations/stripe",
    response=StripeStatusOut,
    summary="Whether a Stripe signing secret and secret key are set",
    operation_id=f"{_OPERATION_PREFIX}get_stripe",
)
def get_stripe(request: HttpRequest) -> dict[str, Any]:
    return _stripe_status(services.settings_for(workspace_of(request)))


@router.put(
    "/integrations/stripe",
    response=StripeStatusOut,
    summary="Set the Stripe webhook signing secret and/or the secret key that pays partners",
    operation_id=f"{_OPERATION_PREFIX}put_stripe",
)
def put_stripe(request: HttpRequest, payload: StripeSecretIn) -> dict[str, Any]:
    if payload.signing_secret is None and payload.secret_key is None:
        message = "Send signing_secret, secret_key or both."
        raise ApiError(422, "invalid", message, {"signing_secret": [message], "secret_key": [message]})
    workspace = workspace_of(request)
    try:
        with transaction.atomic():
            if payload.signing_secret is not None:
                services.set_stripe_signing_secret(
                    workspace=workspace,
                    signing_secret=payload.signing_secret,
                    by=None,
                    actor_label=actor_label(request),
                )
            if payload.secret_key is not None:
                services.set_stripe_secret_key(
                    workspace=workspace, secret_key=payload.secret_key, by=None, actor_label=actor_label(request)
                )
    except ValidationError as exc:
        raise ApiError(422, "invalid", " ".join(exc.messages), exc.message_dict) from exc
    return _stripe_status(services.settings_for(workspace))
