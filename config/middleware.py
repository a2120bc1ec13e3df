"""The JSON edge of /api/ and /webhooks/: a body over the limit is a 413, and every error is JSON.

Outermost in MIDDLEWARE, so that what Django or django-ninja answer themselves (a disallowed host,
a 405 from ninja's path view, a 500 page) still reaches the integrator in the documented shape
`{"error": {"code", "message", "fields"}}`, in development and production alike.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

JSON_PREFIXES = ("/api/", "/webhooks/")
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
_MESSAGES = {
    404: "Not found.",
    405: "This method is not allowed here.",
    413: "The request body is larger than Tandem accepts.",
    500: "Tandem failed to answer this request; the error is logged.",
}


def json_error(status: int, message: str | None = None, code: str | None = None) -> JsonResponse:
    return JsonResponse(
        {
            "error": {
                "code": code or _CODES.get(status, "error"),
                "message": message or _MESSAGES.get(status, "The request cannot be answered."),
                "fields": {},
            }
        },
        status=status,
    )


def _too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit is not None and length > limit


class JsonEdgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(JSON_PREFIXES):
            return self.get_response(request)
        if _too_large(request):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return json_error(
                413,
                f"The request body is larger than Tandem accepts ({limit:,} bytes); "
                "split it, e.g. into batches of fewer events.",
            )
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            replaced = json_error(response.status_code)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    replaced[header] = response[header]
            return replaced
        return response
