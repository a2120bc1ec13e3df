"""The partners endpoints of /api/v1/: create (idempotent by email), list and read partners."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from accounts.api_platform import ApiError, Id, actor_label, cursor_page, workspace_of
from accounts.models import Workspace
from partners import selectors, services
from partners.models import Partner, PartnerGroup, Program

router = Router(tags=["partners"])

# A partner's default link is referrals' row, and partners may not import referrals (DESIGN.md,
# layering); config/api.py, which wires every app, sets this to referrals.default_links.default_link_out.
describe_default_link: Callable[[Partner], dict[str, Any] | None] = lambda partner: None  # noqa: E731


class DefaultLinkOut(Schema):
    code: str
    url: str


class PartnerIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    name: str
    email: str
    company: str = ""
    country: str = ""
    group: str | None = None
    group_id: Id | None = None
    program_id: Id | None = None
    external_id: str = ""
    status: Literal["active", "invited"] = "active"


class PartnerOut(Schema):
    id: int
    name: str
    email: str
    company: str
    country: str
    status: str
    program_id: int
    group_id: int | None
    group: str | None
    external_id: str
    created_at: str
    default_link: DefaultLinkOut | None = Field(
        description="The link the partner got on joining, to the program's default destination; "
        "null while the workspace has no verified domain."
    )


class PartnerFilters(Schema):
    status: str | None = None
    group: str | None = None
    email: str | None = None
    program_id: int | None = None
    cursor: str | None = None
    limit: int | None = None


def partner_out(partner: Partner) -> dict[str, Any]:
    return {
        "id": partner.pk,
        "name": partner.name,
        "email": partner.email,
        "company": partner.company,
        "country": partner.country,
        "status": partner.status,
        "program_id": partner.program_id,
        "group_id": partner.group_id,
        "group": partner.group.name if partner.group else None,
        "external_id": partner.external_id,
        "created_at": partner.created_at.isoformat(),
        "default_link": describe_default_link(partner),
    }


def _program(workspace: Workspace, program_id: int | None) -> Program | None:
    if program_id is None:
        return None
    program = Program.objects.for_workspace(workspace).filter(pk=program_id).first()
    if program is None:
        raise ApiError(
            422,
            "invalid",
            "There is no program with that id in this workspace.",
            {"program_id": ["Unknown program; leave it out to use the Default program."]},
        )
    return program


def _group(
    workspace: Workspace, *, name: str | None, group_id: int | None, field: str = "group"
) -> PartnerGroup | None:
    """A group by id or by name (any case); an unknown one is an error naming the field it came from."""
    groups = PartnerGroup.objects.for_workspace(workspace)
    if group_id is not None:
        group = groups.filter(pk=group_id).first()
        if group is None:
            raise ApiError(
                422, "invalid", "There is no group with that id in this workspace.", {"group_id": ["Unknown group."]}
            )
        return group
    if name:
        group = groups.filter(name__iexact=name.strip()).first()
        if group is None and name.strip().isdigit():
            group = groups.filter(pk=int(name)).first()
        if group is None:
            raise ApiError(
                422,
                "invalid",
                f"There is no group called “{name}” in this workspace.",
                {field: ["Unknown group; create it on the Groups page first."]},
            )
        return group
    return None


@router.post(
    "/partners",
    response={200: PartnerOut, 201: PartnerOut},
    summary="Create a partner (idempotent by email)",
    description=(
        "Creates a partner in `program_id` (the Default program when left out). The same email in the same "
        "program returns the existing partner with 200 instead of 201, so retrying never makes a second partner; "
        "an `Idempotency-Key` header replays the first answer. `status: invited` emails a portal invitation."
    ),
)
def create_partner(request: HttpRequest, payload: PartnerIn) -> Status[dict[str, Any]]:
    workspace = workspace_of(request)
    partner, created = services.create_partner(
        workspace=workspace,
        name=payload.name,
        email=payload.email,
        program=_program(workspace, payload.program_id),
        group=_group(workspace, name=payload.group, group_id=payload.group_id),
        company=payload.company,
        country=payload.country,
        external_id=payload.external_id,
        status=payload.status,
        actor_label=actor_label(request),
    )
    return Status(201 if created else 200, partner_out(partner))


@router.get("/partners", summary="List partners (filters: status, group, email, program_id)")
def list_partners(request: HttpRequest, filters: Query[PartnerFilters]) -> dict[str, Any]:
    workspace = workspace_of(request)
    if filters.status and filters.status not in Partner.Status.values:
        raise ApiError(
            422, "invalid", "Unknown status.", {"status": [f"Use one of {', '.join(Partner.Status.values)}."]}
        )
    group = _group(workspace, name=filters.group, group_id=None)
    program = _program(workspace, filters.program_id)
    partners = selectors.partner_list(
        workspace=workspace,
        status=filters.status or "",
        group_id=group.pk if group else None,
        program_id=program.pk if program else None,
    )
    if filters.email:
        partners = partners.filter(email__iexact=filters.email.strip())
    return cursor_page(partners, cursor=filters.cursor, limit=filters.limit, serialize=partner_out)


@router.get("/partners/{int:partner_id}", response=PartnerOut, summary="One partner")
def get_partner(request: HttpRequest, partner_id: int) -> dict[str, Any]:
    return partner_out(selectors.get_partner_or_404(workspace_of(request), partner_id))
