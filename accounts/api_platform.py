"""The edge of /api/v1/: text that cannot be stored is refused before any endpoint sees it.

django-ninja hands every JSON body and query string to the API's parser, so checking there covers
every endpoint at once, with the field named the way the integrator sent it. A list whose items
are judged one by one (the events of /events/batch) is left to its endpoint, which refuses only
the item at fault and accepts the others.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.parser import Parser
from pydantic import BeforeValidator, Field, StrictInt

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


def install_edge_handlers(api: NinjaAPI, respond: Any) -> None:
    """422 for unusable text; a JSON 500 (logged with its traceback) for any error nothing else handled."""
    api.add_exception_handler(UnusableText, lambda r, e: respond(r, 422, "unusable_text", e.message, {e.field: [e.message]}))

    def internal(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("Unhandled error in %s %s", request.method, request.path, exc_info=exc)
        return respond(request, 500, "internal_error", "Tandem failed to answer this request; the error is logged.")

    api.add_exception_handler(Exception, internal)


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
