"""The domains endpoints of /api/v1/: the workspace's verified destination domains.

What every endpoint shares (key auth, errors, cursor pages, Idempotency-Key) is accounts/api_platform.py.
"""

from __future__ import annotations

from typing import Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from accounts import services
from accounts.api_platform import ApiError, actor_label, cursor_page, get_or_404, workspace_of
from accounts.models import Domain

# --- Domains ------------------------------------------------------------------------

router = Router(tags=["domains"])


class DomainIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored
    domain: str


class VerificationRecordOut(Schema):
    type: str = Field(description="Always TXT")
    name: str = Field(description="Where the record goes: the domain itself")
    value: str = Field(description="`tandem-verify=<token>`")


class DomainOut(Schema):
    id: int
    domain: str = Field(description="ASCII (punycode) form, as compared with link destinations")
    display_name: str = Field(description="The domain as people read it (Unicode)")
    status: Literal["pending", "verified"] = Field(
        description="Links may point here (and to its subdomains) only once `verified`"
    )
    verification: VerificationRecordOut = Field(description="The DNS record that proves the domain is yours")
    verified_at: str | None
    last_checked_at: str | None
    last_check: str = Field(description="What the last DNS lookup found")
    created_at: str


def domain_out(row: Domain) -> dict[str, Any]:
    return {
        "id": row.pk,
        "domain": row.domain,
        "display_name": row.display_name,
        "status": row.status,
        "verification": {"type": "TXT", "name": row.domain, "value": row.verification_record},
        "verified_at": row.verified_at.isoformat() if row.verified_at else None,
        "last_checked_at": row.last_checked_at.isoformat() if row.last_checked_at else None,
        "last_check": row.last_check_message,
        "created_at": row.created_at.isoformat(),
    }


@router.get("/domains", summary="The workspace's destination domains, pending and verified")
def list_domains(request: HttpRequest, cursor: str | None = None, limit: int | None = None) -> dict[str, Any]:
    return cursor_page(
        Domain.objects.for_workspace(workspace_of(request)), cursor=cursor, limit=limit, serialize=domain_out
    )


@router.post(
    "/domains",
    response={200: DomainOut, 201: DomainOut},
    summary="Add a destination domain; it is pending until its DNS carries the `verification` TXT record",
)
def add_domain(request: HttpRequest, payload: DomainIn) -> Status[dict[str, Any]]:
    workspace = workspace_of(request)
    try:
        name = services.normalize_domain(payload.domain)
    except DjangoValidationError as exc:
        raise ApiError(422, "invalid", exc.messages[0], {"domain": exc.messages}) from exc
    existed = Domain.objects.for_workspace(workspace).filter(domain__iexact=name).exists()
    row = services.add_domain(workspace=workspace, domain=name, actor=None, actor_label=actor_label(request))
    return Status(200 if existed else 201, domain_out(row))


@router.get("/domains/{domain_id}", response=DomainOut, summary="One destination domain and its verification state")
def get_domain(request: HttpRequest, domain_id: int) -> dict[str, Any]:
    return domain_out(get_or_404(request, Domain.objects, pk=domain_id))


@router.post(
    "/domains/{domain_id}/verify",
    response=DomainOut,
    summary="Look for the domain's TXT record now; answers the domain with its new `status`",
)
def verify_domain(request: HttpRequest, domain_id: int) -> dict[str, Any]:
    row = get_or_404(request, Domain.objects, pk=domain_id)
    return domain_out(services.check_domain(domain=row, actor=None, actor_label=actor_label(request)))
