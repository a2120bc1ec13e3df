"""`/api/v1/links`: make and list partners' short links with a workspace API key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status
from pydantic import ConfigDict

from accounts.api_platform import ApiError, Id, actor_label, cursor_page, get_or_404, workspace_of
from partners.models import Partner
from referrals import selectors, services
from referrals.models import Link
from referrals.validation import UTM_FIELDS

router = Router(tags=["links"])


class LinkIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    partner_id: Id
    destination_url: str
    code: str | None = None
    channel: str = ""
    campaign: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""


class LinkOut(Schema):
    id: int
    code: str
    url: str
    destination_url: str
    partner_id: int
    program_id: int
    channel: str
    campaign: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    archived: bool
    created_at: str


def link_out(link: Link) -> dict[str, Any]:
    return {
        "id": link.pk,
        "code": link.code,
        "url": settings.SITE_URL.rstrip("/") + reverse("redirect", args=[link.code]),
        "destination_url": link.destination_url,
        "partner_id": link.partner_id,
        "program_id": link.program_id,
        "channel": link.channel,
        "campaign": link.campaign,
        **{field: getattr(link, field) for field in UTM_FIELDS},
        "archived": link.archived_at is not None,
        "created_at": link.created_at.isoformat(),
    }


@router.post("/links", response={200: LinkOut, 201: LinkOut}, summary="Make a short link for a partner")
def create_link(request: HttpRequest, payload: LinkIn) -> Status:
    """The same explicit `code`, partner and destination again answers 200 with the existing link;
    a repeated `Idempotency-Key` header replays the first answer (the API platform's)."""
    workspace = workspace_of(request)
    partner = Partner.objects.for_workspace(workspace).filter(pk=payload.partner_id).first()
    if partner is None:
        raise ApiError(
            422,
            "invalid",
            "No partner with this id in this workspace.",
            {"partner_id": ["No partner with this id in this workspace."]},
        )
    try:
        result = services.create_link(
            workspace=workspace,
            partner=partner,
            destination_url=payload.destination_url,
            code=payload.code or "",
            channel=payload.channel,
            campaign=payload.campaign,
            utm={field: getattr(payload, field) for field in UTM_FIELDS},
            actor_label=actor_label(request),
        )
    except ValidationError as exc:
        fields = {
            ("partner_id" if name == "partner" else name): messages for name, messages in exc.message_dict.items()
        }
        if list(fields) == ["code"] and "taken" in fields["code"][0]:
            raise ApiError(409, "code_taken", fields["code"][0], fields) from exc
        message = " ".join(message for messages in fields.values() for message in messages)
        raise ApiError(422, "invalid", message, fields) from exc
    return Status(201 if result.created else 200, link_out(result.link))


@router.get("/links", summary="The workspace's short links, newest first")
def list_links(
    request: HttpRequest,
    partner_id: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    include_archived: bool = False,
) -> dict[str, Any]:
    rows = Link.objects.for_workspace(workspace_of(request))
    if partner_id is not None:
        rows = rows.filter(partner_id=partner_id)
    if not include_archived:
        rows = rows.filter(archived_at__isnull=True)
    return cursor_page(rows, cursor=cursor, limit=limit, serialize=link_out)


@router.get("/links/{link_id}", response=LinkOut, summary="One short link")
def get_link(request: HttpRequest, link_id: int) -> dict[str, Any]:
    return link_out(get_or_404(request, Link.objects, pk=link_id))


@router.get("/links/{link_id}/stats", summary="Clicks of one short link (humans; bots are kept but not counted)")
def link_stats(request: HttpRequest, link_id: int) -> dict[str, Any]:
    link = get_or_404(request, Link.objects, pk=link_id)
    counts = selectors.link_click_counts(workspace_of(request), [link.pk]).get(link.pk, selectors.ClickCounts())
    return {"link_id": link.pk, "clicks": counts.clicks, "unique_clicks": counts.unique_clicks, "bots": counts.bots}
