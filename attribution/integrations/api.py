"""`/api/v1/integrations/stripe`: set the Stripe signing secret, or ask whether one is set."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
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


class StripeSecretIn(Schema):
    model_config = ConfigDict(extra="forbid")

    signing_secret: str = Field(
        pattern=STRIPE_SECRET_PATTERN,
        max_length=206,
        description="The endpoint's signing secret from Stripe's dashboard: whsec_ and 16-200 more",
    )


class StripeStatusOut(Schema):
    signing_secret_set: bool
    set_at: str | None
    webhook_path: str


def _stripe_status(row: IntegrationSettings) -> dict[str, Any]:
    # Never the secret itself: a leaked API key must not also leak the means to forge Stripe events.
    return {
        "signing_secret_set": row.stripe_connected,
        "set_at": row.stripe_secret_set_at.isoformat() if row.stripe_secret_set_at else None,
        "webhook_path": f"/webhooks/stripe/{row.workspace.slug}/",
    }


@router.get(
    "/integrations/stripe",
    response=StripeStatusOut,
    summary="Whether a Stripe signing secret is set",
    operation_id=f"{_OPERATION_PREFIX}get_stripe",
)
def get_stripe(request: HttpRequest) -> dict[str, Any]:
    return _stripe_status(services.settings_for(workspace_of(request)))


@router.put(
    "/integrations/stripe",
    response=StripeStatusOut,
    summary="Set the Stripe webhook signing secret",
    operation_id=f"{_OPERATION_PREFIX}put_stripe",
)
def put_stripe(request: HttpRequest, payload: StripeSecretIn) -> dict[str, Any]:
    try:
        row = services.set_stripe_signing_secret(
            workspace=workspace_of(request),
            signing_secret=payload.signing_secret,
            by=None,
            actor_label=actor_label(request),
        )
    except ValidationError as exc:
        raise ApiError(422, "invalid", " ".join(exc.messages), exc.message_dict) from exc
    return _stripe_status(row)
