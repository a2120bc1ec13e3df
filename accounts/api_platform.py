"""What every endpoint of /api/v1/ shares, in one place.

- the edge: text that cannot be stored is refused before any endpoint sees it (django-ninja hands
  every JSON body and query string to the API's parser, so checking there covers every endpoint,
  with the field named the way the integrator sent it; a list whose items are judged one by one,
  the events of /events/batch, is left to its endpoint);
- authentication by workspace key, and the workspace-scoped get-or-404;
- the error shape `{"error": {"code", "message", "fields"}}` for every failure, a 503 when
  PostgreSQL cannot be reached;
- cursor pages;
- Idempotency-Key on every POST, PUT and PATCH, with Stripe's rules (see install_api_platform).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Annotated, Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Manager, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer
from pydantic import BeforeValidator, Field, StrictInt

from accounts import services
from accounts.models import ApiKey, IdempotencyKey, Workspace
from accounts.tenancy import get_for_workspace_or_404
from core.text import find_unusable_text, unusable_character

logger = logging.getLogger(__name__)

# Path suffix -> the body field whose items its endpoint checks itself (see check_items_separately).
_ITEMWISE: dict[str, str] = {}


class UnusableText(Exception):
    """A string of the request that PostgreSQL or a person cannot use; `field` names where it is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field or "body", message


def check_items_separately(path_suffix: str, field: str) -> None:
    """Let the endpoint at `path_suffix` judge each item of `field` itself (one bad item is not a bad batch)."""
    _ITEMWISE[path_suffix] = field


def refuse_unusable(value: Any, path: str = "") -> None:
    found = find_unusable_text(value, path)
    if found is not None:
        raise UnusableText(*found)


def _itemwise_field(request: HttpRequest) -> str | None:
    return next((field for suffix, field in _ITEMWISE.items() if request.path.endswith(suffix)), None)


class EdgeParser(Parser):
    """ninja's JSON parser, refusing unusable text in bodies and query strings."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body)
        itemwise = _itemwise_field(request)
        if itemwise and isinstance(data, dict) and isinstance(data.get(itemwise), list):
            refuse_unusable({k: v for k, v in data.items() if k != itemwise})
        else:
            refuse_unusable(data)
        return data

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request: HttpRequest) -> dict[str, Any]:
        for key, values in data.lists():
            refuse_unusable(values if key in list_fields else values[-1], key)
            if problem := unusable_character(key):
                raise UnusableText(key, problem)
        return super().parse_querydict(data, list_fields, request)


def check_path(request: HttpRequest) -> None:
    """Path parameters (an event_id in the URL) reach queries too; ninja does not parse them through the parser."""
    problem = unusable_character(request.path)
    if problem:
        raise UnusableText("path", problem)


# --- Strict values: what JSON or a query string says is taken as said -------------------------------

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", re.ASCII)


def _iso_date(value: Any) -> Any:
    # pydantic would read 0 (or "0") as 1970-01-01, a Unix timestamp; a date is YYYY-MM-DD only.
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("Use a date as YYYY-MM-DD.")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
# An id in a JSON body is a JSON integer: `true` is not partner 1, `false` not commission 0.
Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]


# --- Authentication and the workspace of a request ------------------------------------------------


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
    return request.workspace  # type: ignore[attr-defined]


def actor_label(request: HttpRequest) -> str:
    """Who the audit log says acted: the key, by its name."""
    return f"API key {request.api_key.name}"  # type: ignore[attr-defined]


def get_or_404[M: Model](request: HttpRequest, rows: QuerySet[M] | Manager[M], **lookup: object) -> M:
    """A row of the key's workspace; another workspace's row is a 404, like one that does not exist."""
    return get_for_workspace_or_404(rows, workspace_of(request), **lookup)


# --- The error shape -------------------------------------------------------------------------------


class ApiError(Exception):
    """An error the integrator can act on: a stable code, a sentence, and the fields at fault."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


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
Respond = Callable[..., HttpResponse]


def _http_error(request: HttpRequest, exc: HttpError, respond: Respond) -> HttpResponse:
    # ninja wraps whatever its parser raised in a 400; what the edge refused keeps its own answer.
    cause = exc.__cause__
    if isinstance(cause, UnusableText):
        return respond(request, 422, "unusable_text", cause.message, {cause.field: [cause.message]})
    if isinstance(cause, RequestDataTooBig):
        return respond(request, 413, "too_large", "The request body is larger than Tandem accepts.")
    if isinstance(cause, ValueError) and exc.status_code == 400:
        return respond(request, 400, "malformed_body", "The body is not valid JSON.", {"body": [str(cause)]})
    return respond(request, exc.status_code, _HTTP_ERROR_CODES.get(exc.status_code, "http_error"), str(exc))


DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def _handle[E: Exception](api: NinjaAPI, exc_class: type[E], handler: Callable[[HttpRequest, E], HttpResponse]) -> None:
    # ninja's annotation lets a handler receive the exception class too; it is always handed the instance.
    api.add_exception_handler(exc_class, handler)  # type: ignore[arg-type]


def install_error_handlers(api: NinjaAPI) -> None:
    """Every failure in the error shape: 4xx the integrator can act on, 503 without the database, 500 for a bug."""

    def respond(
        request: HttpRequest, status: int, code: str, message: str, fields: dict[str, Any] | None = None
    ) -> HttpResponse:
        return api.create_response(request, error_body(code, message, fields), status=status)

    _handle(api, ApiError, lambda r, e: respond(r, e.status, e.code, e.message, e.fields))
    _handle(
        api,
        ValidationError,
        lambda r, e: respond(r, 422, "invalid", "Some fields are missing or invalid.", _fields_from_ninja(e.errors)),
    )
    _handle(
        api,
        DjangoValidationError,
        lambda r, e: respond(
            r, 422, "invalid", " ".join(e.messages), e.message_dict if hasattr(e, "error_dict") else {}
        ),
    )
    _handle(
        api,
        AuthenticationError,
        lambda r, e: respond(
            r, 401, "unauthorized", "Send a valid workspace API key as `Authorization: Bearer <key>`."
        ),
    )
    _handle(api, HttpError, lambda r, e: _http_error(r, e, respond))
    _handle(api, Http404, lambda r, e: respond(r, 404, "not_found", "Not found in this workspace."))
    _handle(api, UnusableText, lambda r, e: respond(r, 422, "unusable_text", e.message, {e.field: [e.message]}))

    def unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Not the client's fault, and nothing was recorded: never a 2xx without the row.
        logger.error("Database unavailable during %s %s: %s", request.method, request.path, exc)
        response = respond(
            request,
            503,
            "unavailable",
            "Tandem cannot reach its database right now; nothing was "
            "recorded. Retry with the same event_id (or Idempotency-Key).",
        )
        response["Retry-After"] = "5"
        return response

    # Other database errors (an integrity error, a bad query) are bugs: a 500.
    for error in DATABASE_UNAVAILABLE:
        _handle(api, error, unavailable)

    def internal(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("Unhandled error in %s %s", request.method, request.path, exc_info=exc)
        return respond(request, 500, "internal_error", "Tandem failed to answer this request; the error is logged.")

    _handle(api, Exception, internal)


# --- Cursor pages ----------------------------------------------------------------------------------

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def _encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            422, "invalid", "That cursor is not valid.", {"cursor": ["Use the `next` value of a previous page."]}
        ) from exc


def cursor_page[M: Model](
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


# --- Idempotency-Key, Stripe's rules -----------------------------------------------------------------
# The first answer to a write sent with a key is stored with a fingerprint of the request; the same
# key with the same request gets that answer again (status included), with another request a 409
# `idempotency_conflict`. Keys belong to the key's workspace and are kept IDEMPOTENCY_TTL.
# What is stored: the endpoint's own answers, 2xx and 4xx, as Stripe does, except 409 and 429 (a
# conflict or a throttle may clear, so the retry runs again). Not stored: what was refused before
# the endpoint ran (a bad key, a malformed, oversized or invalid body), and 5xx (the database away,
# or a bug): those retries run again.

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
IDEMPOTENCY_TTL = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 255
_LOCK_NAMESPACE = 0x7A12  # pg_advisory_xact_lock(namespace, key): two retries racing make one write
_NOT_STORED = frozenset({409, 429})
_KEYED = "_tandem_idempotency"  # the request attribute the two halves below share


def keeps_answer(status_code: int) -> bool:
    return 200 <= status_code < 300 or (400 <= status_code < 500 and status_code not in _NOT_STORED)


def idempotency_key(request: HttpRequest) -> str | None:
    """The request's Idempotency-Key, or None; a key that cannot be stored is refused, naming the header."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if problem := unusable_character(key):
        raise ApiError(422, "unusable_text", problem, {"Idempotency-Key": [problem]})
    if len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            422,
            "invalid",
            "The Idempotency-Key header is not valid.",
            {"Idempotency-Key": [f"Use 1 to {MAX_KEY_LENGTH} characters."]},
        )
    return key


def request_fingerprint(request: HttpRequest) -> str:
    """Method, path and body; the body as JSON means it, so key order and spacing are not a new request."""
    body = request.body
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:
        canonical = body
    return hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode() + canonical).hexdigest()


def purge_idempotency_keys(*, now: dt.datetime | None = None) -> int:
    """Forget answers older than IDEMPOTENCY_TTL (beat); their keys may then be used again."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    old = IdempotencyKey.objects.across_workspaces("beat: one indexed range delete")
    deleted, _ = old.filter(created_at__lt=cutoff).delete()
    return deleted


def _wants_key(request: HttpRequest) -> bool:
    return request.method in WRITE_METHODS and bool(request.headers.get("Idempotency-Key", "").strip())


def _lock(workspace: Workspace, key: str) -> None:
    lock = int.from_bytes(hashlib.blake2b(f"{workspace.pk}:{key}".encode(), digest_size=4).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, lock])


def _write_once(api: NinjaAPI) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Around each endpoint, after authentication and validation: one transaction per write; with a
    key, a stored answer replayed (or a 409 for another body) instead of running the endpoint."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def run_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request.method not in WRITE_METHODS:
                return view(request, *args, **kwargs)
            key = idempotency_key(request)
            keyed = getattr(request, _KEYED, None)
            if key is not None and keyed is not None:
                workspace, fingerprint = workspace_of(request), request_fingerprint(request)
                _lock(workspace, key)
                stored = IdempotencyKey.objects.for_workspace(workspace).filter(key=key).first()
                if stored is not None:
                    if stored.request_hash != fingerprint:
                        raise ApiError(
                            409,
                            "idempotency_conflict",
                            "This Idempotency-Key was already used with a "
                            "different request. Use a new key for a new request.",
                            {"Idempotency-Key": ["Already used with another body."]},
                        )
                    response = api.create_response(request, stored.response, status=stored.status_code)
                    response["Idempotent-Replayed"] = "true"
                    return response
                keyed.update(workspace=workspace, key=key, fingerprint=fingerprint)
            # A write that fails half-way leaves nothing behind (its error is rendered after the rollback).
            with transaction.atomic():
                return view(request, *args, **kwargs)

        run_view.writes_once = True  # type: ignore[attr-defined]  # read by tests/accounts/test_idempotency.py
        return run_view

    return decorate


def _answer_once(api: NinjaAPI) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Around the whole operation (authentication, validation, endpoint, rendering): with a key, one
    transaction that holds the key's lock from the look-up in _write_once to the stored answer."""

    def decorate(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(run)
        def run_once(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _wants_key(request):
                return run(request, *args, **kwargs)
            keyed: dict[str, Any] = {}
            setattr(request, _KEYED, keyed)
            try:
                with transaction.atomic():
                    response = run(request, *args, **kwargs)
                    if keyed and keeps_answer(response.status_code):
                        _store(response, **keyed)
            except DATABASE_UNAVAILABLE as exc:  # beginning or committing the transaction
                return api.on_exception(request, exc)
            return response

        return run_once

    return decorate


def _store(response: HttpResponse, *, workspace: Workspace, key: str, fingerprint: str) -> None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return  # only JSON answers are replayed; every write of the API answers JSON
    IdempotencyKey.objects.create(
        workspace=workspace, key=key, request_hash=fingerprint, status_code=response.status_code, response=body
    )


def install_api_platform(api: NinjaAPI) -> None:
    """The error shape and Idempotency-Key for every operation of `api`, present and future.

    Call before the API's URLs are built: ninja applies API-level decorators to every router's
    operations then, so a new endpoint cannot leave them out.
    """
    install_error_handlers(api)
    api.add_decorator(_answer_once(api), mode="view")
    api.add_decorator(_write_once(api), mode="operation")
