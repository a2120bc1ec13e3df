"""`/api/v1/programs`: read, add and change the workspace's programs with a workspace API key."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict, field_validator

from accounts.api_platform import ApiError, actor_label, cursor_page, get_or_404, workspace_of
from core.money import amount_json_schema, decimal_string
from partners import services
from partners.models import Program

router = Router(tags=["programs"])

_WINDOW = "Days after a click within which a lead is credited to the partner."
_HOLD = "Days a commission waits before it can be approved (refunds)."
_MINIMUM = "The least a partner is paid at once, as a decimal string."
_TAX_FORM = "Partners must have a W-9 or W-8BEN on file before their first payout."
_DESTINATION = (
    "Where partners' default links land: a URL on one of the workspace's verified domains. "
    "Empty: the home page of the first verified domain."
)


class ProgramIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    name: str = Field(min_length=1, max_length=120)
    currency: str = "USD"
    default_destination: str = Field("", description=_DESTINATION)
    attribution_window_days: int = Field(90, ge=1, le=3650, strict=True, description=_WINDOW)
    attribution_model: Literal["last_click", "first_click"] = "last_click"
    hold_days: int = Field(30, ge=0, le=3650, strict=True, description=_HOLD)
    minimum_payout: Decimal = Field(
        Decimal("0"), ge=0, max_digits=14, decimal_places=2, description=_MINIMUM, json_schema_extra=amount_json_schema
    )
    terms: str = ""
    requires_tax_form: bool = Field(False, strict=True, description=_TAX_FORM)

    _amounts = field_validator("minimum_payout", mode="before")(decimal_string)


class ProgramChanges(Schema):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    currency: str | None = None
    default_destination: str | None = Field(None, description=_DESTINATION)
    attribution_window_days: int | None = Field(None, ge=1, le=3650, strict=True, description=_WINDOW)
    attribution_model: Literal["last_click", "first_click"] | None = None
    hold_days: int | None = Field(None, ge=0, le=3650, strict=True, description=_HOLD)
    minimum_payout: Decimal | None = Field(
        None, ge=0, max_digits=14, decimal_places=2, description=_MINIMUM, json_schema_extra=amount_json_schema
    )
    terms: str | None = None
    requires_tax_form: bool | None = Field(None, strict=True, description=_TAX_FORM)

    _amounts = field_validator("minimum_payout", mode="before")(decimal_string)


class ProgramOut(Schema):
    id: int
    name: str
    slug: str
    currency: str
    default_destination: str = Field(description="As set by a manager; empty when not set.")
    landing_page: str | None = Field(
        description="Where default links land now: the default destination, else the home page of the first "
        "verified domain; null while the workspace has none."
    )
    attribution_window_days: int
    attribution_model: str
    hold_days: int
    minimum_payout: str
    terms: str
    requires_tax_form: bool
    created_at: str


def program_out(program: Program) -> dict[str, Any]:
    return {
        "id": program.pk,
        "name": program.name,
        "slug": program.slug,
        "currency": program.currency,
        "default_destination": program.default_destination,
        "landing_page": services.landing_page(program=program),
        "attribution_window_days": program.attribution_window_days,
        "attribution_model": program.attribution_model,
        "hold_days": program.hold_days,
        "minimum_payout": str(program.minimum_payout),
        "terms": program.terms,
        "requires_tax_form": program.requires_tax_form,
        "created_at": program.created_at.isoformat(),
    }


def _same_name(workspace_programs: Any, name: str) -> Program | None:
    return workspace_programs.filter(name__iexact=name.strip()).first()


@router.get("/programs", summary="List programs")
def list_programs(request: HttpRequest, cursor: str | None = None, limit: int | None = None) -> dict[str, Any]:
    workspace = workspace_of(request)
    services.ensure_default_program(workspace=workspace)
    programs = Program.objects.for_workspace(workspace)
    return cursor_page(programs, cursor=cursor, limit=limit, serialize=program_out)


@router.post(
    "/programs",
    response={200: ProgramOut, 201: ProgramOut},
    summary="Add a program (idempotent by name)",
    description=(
        "A program with the same name (any case) answers the existing one with 200 instead of 201, so a retry "
        "never makes a second program; an `Idempotency-Key` header replays the first answer."
    ),
)
def create_program(request: HttpRequest, payload: ProgramIn) -> Status[dict[str, Any]]:
    workspace = workspace_of(request)
    existing = _same_name(Program.objects.for_workspace(workspace), payload.name)
    if existing is not None:
        return Status(200, program_out(existing))
    program = services.create_program(
        workspace=workspace, by=None, actor_label=actor_label(request), **payload.model_dump()
    )
    return Status(201, program_out(program))


@router.get("/programs/{int:program_id}", response=ProgramOut, summary="One program")
def get_program(request: HttpRequest, program_id: int) -> dict[str, Any]:
    return program_out(get_or_404(request, Program.objects, pk=program_id))


@router.patch("/programs/{int:program_id}", response=ProgramOut, summary="Change a program's settings")
def update_program(request: HttpRequest, program_id: int, payload: ProgramChanges) -> dict[str, Any]:
    workspace = workspace_of(request)
    program = get_or_404(request, Program.objects, pk=program_id)
    changes = payload.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        nulls = [field for field, value in changes.items() if value is None]
        raise ApiError(
            422,
            "invalid",
            "Leave out a field to keep it; null is not a value.",
            {f: ["May not be null."] for f in nulls},
        )
    if "name" in changes:
        clash = _same_name(Program.objects.for_workspace(workspace).exclude(pk=program.pk), changes["name"])
        if clash is not None:
            raise ApiError(422, "invalid", "Another program has that name.", {"name": ["Choose another name."]})
        changes["name"] = changes["name"].strip()
        if not changes["name"]:
            raise ApiError(422, "invalid", "Give the program a name.", {"name": ["May not be empty."]})
    return program_out(services.update_program(program=program, by=None, actor_label=actor_label(request), **changes))
