"""The API's shared parts (key auth, the error shape, cursor lists) and the domains endpoints."""

from __future__ import annotations

import base64
from typing import Any, Callable, Iterable, Literal, TypeVar

from django.core.exceptions import RequestDataTooBig, ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import ConfigDict

from accounts import services
from accounts.api_platform import UnusableText, check_path, install_edge_handlers
from accounts.models import ApiKey, Domain, Workspace
from accounts.tenancy import get_for_workspace_or_404
from core.text import unusable_character

M = TypeVar("M", bound=Model)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class ApiError(Exception):
    """An error the integrator can act on: a stable code, a sentence, and the fields at fault."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


class WorkspaceKeyAuth(HttpBearer):
    """`Authorization: Bearer <key>`; the key decides the workspace of every query in the request."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        check_path(request)
        if unusable_character(token):
            return None
        api_key = services.authenticate_api_key(token.strip())
        if api_key is not None:
            request.workspace = api_key.workspace  # type: ignore[attr-defined]
            request.api_key = api_key  # type: ignore[attr-defined]
        return api_key


def workspace_of(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined,no-any-return]


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _fields_from_ninja(errors: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "payload")]
        name = ".".join(loc) or "body"
        fields.setdefault(name, []).append(error.get("msg", "Invalid value."))
    return fields


# Stable codes for the errors django-ninja raises itself (400 is a body that is not valid JSON).
_HTTP_ERROR_CODES = {400: "malformed_body", 405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}


def _http_error(request: HttpRequest, exc: HttpError, respond: Callable[..., HttpResponse]) -> HttpResponse:
    # ninja wraps whatever its parser raised in a 400; what the edge refused keeps its own answer.
    cause = exc.__cause__
    if isinstance(cause, UnusableText):
        return respond(request, 422, "unusable_text", cause.message, {cause.field: [cause.message]})
    if isinstance(cause, RequestDataTooBig):
        return respond(request, 413, "too_large", "The request body is larger than Tandem accepts.")
    if isinstance(cause, ValueError) and exc.status_code == 400:
        return respond(request, 400, "malformed_body", "The body is not valid JSON.", {"body": [str(cause)]})
    return respond(request, exc.status_code, _HTTP_ERROR_CODES.get(exc.status_code, "http_error"), str(exc))


def install_error_handlers(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, code: str, message: str, fields: dict[str, Any] | None = None) -> HttpResponse:
        return api.create_response(request, error_body(code, message, fields), status=status)

    api.add_exception_handler(ApiError, lambda r, e: respond(r, e.status, e.code, e.message, e.fields))
    api.add_exception_handler(
        ValidationError,
        lambda r, e: respond(r, 422, "invalid", "Some fields are missing or invalid.", _fields_from_ninja(e.errors)),
    )
    api.add_exception_handler(
        DjangoValidationError,
        lambda r, e: respond(r, 422, "invalid", " ".join(e.messages),
                             e.message_dict if hasattr(e, "error_dict") else {}),
    )
    api.add_exception_handler(
        AuthenticationError,
        lambda r, e: respond(r, 401, "unauthorized", "Send a valid workspace API key as `Authorization: Bearer <key>`."),
    )
    api.add_exception_handler(HttpError, lambda r, e: _http_error(r, e, respond))
    api.add_exception_handler(Http404, lambda r, e: respond(r, 404, "not_found", "Not found in this workspace."))
    install_edge_handlers(api, respond)


def _encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(422, "invalid", "That cursor is not valid.", {"cursor": ["Use the `next` value of a previous page."]}) from exc


def cursor_page(
    queryset: QuerySet[M], *, cursor: str | None, limit: int | None, serialize: Callable[[M], Any]
) -> dict[str, Any]:
    """`{"items": [...], "next": <cursor or null>}`, newest id first; stable while rows are added."""
    size = min(max(limit or DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE)
    queryset = queryset.order_by("-pk")
    if cursor:
        queryset = queryset.filter(pk__lt=_decode_cursor(cursor))
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return {"items": [serialize(row) for row in rows], "next": _encode_cursor(rows[-1].pk) if more and rows else None}


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


def _key_label(request: HttpRequest) -> str:
    return f"API key {request.api_key.name}"  # type: ignore[attr-defined]


@router.get("/domains", summary="The workspace's destination domains, pending and verified")
def list_domains(request: HttpRequest, cursor: str | None = None, limit: int | None = None) -> dict[str, Any]:
    return cursor_page(Domain.objects.for_workspace(workspace_of(request)), cursor=cursor, limit=limit, serialize=domain_out)


@router.post(
    "/domains", response={200: DomainOut, 201: DomainOut},
    summary="Add a destination domain; it is pending until its DNS carries the `verification` TXT record",
)
def add_domain(request: HttpRequest, payload: DomainIn) -> Status[dict[str, Any]]:
    workspace = workspace_of(request)
    try:
        name = services.normalize_domain(payload.domain)
    except DjangoValidationError as exc:
        raise ApiError(422, "invalid", exc.messages[0], {"domain": exc.messages}) from exc
    existed = Domain.objects.for_workspace(workspace).filter(domain__iexact=name).exists()
    row = services.add_domain(workspace=workspace, domain=name, actor=None, actor_label=_key_label(request))
    return Status(200 if existed else 201, domain_out(row))


@router.get("/domains/{domain_id}", response=DomainOut, summary="One destination domain and its verification state")
def get_domain(request: HttpRequest, domain_id: int) -> dict[str, Any]:
    return domain_out(get_for_workspace_or_404(Domain.objects, workspace_of(request), pk=domain_id))


@router.post(
    "/domains/{domain_id}/verify", response=DomainOut,
    summary="Look for the domain's TXT record now; answers the domain with its new `status`",
)
def verify_domain(request: HttpRequest, domain_id: int) -> dict[str, Any]:
    row = get_for_workspace_or_404(Domain.objects, workspace_of(request), pk=domain_id)
    return domain_out(services.check_domain(domain=row, actor=None, actor_label=_key_label(request)))
