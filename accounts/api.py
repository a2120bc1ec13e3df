"""The API's shared parts (key auth, the error shape, cursor lists) and the domains endpoints."""

from __future__ import annotations

import base64
from typing import Any, Callable, Iterable, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from accounts import services
from accounts.models import ApiKey, Domain, Workspace

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
    api.add_exception_handler(
        HttpError, lambda r, e: respond(r, e.status_code, _HTTP_ERROR_CODES.get(e.status_code, "http_error"), str(e))
    )
    api.add_exception_handler(Http404, lambda r, e: respond(r, 404, "not_found", "Not found in this workspace."))


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
    domain: str


class DomainOut(Schema):
    id: int
    domain: str
    created_at: str


def domain_out(row: Domain) -> dict[str, Any]:
    return {"id": row.pk, "domain": row.domain, "created_at": row.created_at.isoformat()}


@router.get("/domains", summary="The workspace's verified destination domains")
def list_domains(request: HttpRequest, cursor: str | None = None, limit: int | None = None) -> dict[str, Any]:
    return cursor_page(Domain.objects.for_workspace(workspace_of(request)), cursor=cursor, limit=limit, serialize=domain_out)


@router.post("/domains", response={200: DomainOut, 201: DomainOut}, summary="Add a verified destination domain")
def add_domain(request: HttpRequest, payload: DomainIn) -> Status[dict[str, Any]]:
    workspace = workspace_of(request)
    try:
        name = services.normalize_domain(payload.domain)
    except DjangoValidationError as exc:
        raise ApiError(422, "invalid", exc.messages[0], {"domain": exc.messages}) from exc
    existed = Domain.objects.for_workspace(workspace).filter(domain__iexact=name).exists()
    api_key = request.api_key  # type: ignore[attr-defined]
    row = services.add_domain(workspace=workspace, domain=name, actor=None, actor_label=f"API key {api_key.name}")
    return Status(200 if existed else 201, domain_out(row))
