"""The dashboard's "Get started" steps. Each step is ticked only by what actually happened: a domain
that passed its DNS proof, a default destination a manager set, an event that arrived (an API key
alone sends nothing), a partner that exists."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from accounts.models import Domain, Workspace
from attribution.models import InboundEvent
from partners.models import Partner
from partners.services import ensure_default_program


@dataclass(frozen=True)
class SetupStep:
    title: str
    text: str
    done: bool
    action: str = ""  # what the link says, for managers while the step is not done
    url: str = ""


def setup_checklist(*, workspace: Workspace) -> list[SetupStep]:
    slug = workspace.slug
    program = ensure_default_program(workspace=workspace)
    verified = Domain.objects.for_workspace(workspace).filter(status=Domain.Status.VERIFIED).exists()
    return [
        SetupStep(
            "Verify your website's domain",
            "Partner links can only point to verified domains.",
            verified,
            "Add a domain →",
            reverse("domains", args=[slug]),
        ),
        SetupStep(
            "Choose where partner links land",
            "Each partner's default link sends visitors here"
            + (f" (until you choose, {_root_hint(workspace)})." if not program.default_destination else "."),
            bool(program.default_destination),
            "Set the default destination →",
            reverse("program_edit", args=[slug, program.pk]),
        ),
        SetupStep(
            "Connect your systems",
            "Send leads and sales through the API, Stripe or HubSpot; this is ticked when the first one arrives.",
            InboundEvent.objects.for_workspace(workspace).exists(),
            "Create an API key →",
            reverse("api_keys", args=[slug]),
        ),
        SetupStep(
            "Add your first partner",
            "Invite a partner or import a CSV; each gets its link and code at once.",
            Partner.objects.for_workspace(workspace).exists(),
            "Invite a partner →",
            reverse("partner_invite", args=[slug]),
        ),
    ]


def _root_hint(workspace: Workspace) -> str:
    first = Domain.objects.for_workspace(workspace).filter(status=Domain.Status.VERIFIED).order_by("pk").first()
    return f"the home page of {first.domain}" if first else "there is nowhere to send visitors yet"
