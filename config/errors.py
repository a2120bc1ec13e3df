from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from config.middleware import JSON_PREFIXES, json_error


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(JSON_PREFIXES):
        return json_error(404)
    return render(request, "404.html", status=404)


@csrf_exempt  # a POST to nowhere is a 404, not a CSRF 403: API clients send no CSRF token
def json_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any path under /api/ or /webhooks/ that names nothing, in every mode (and before APPEND_SLASH
    could redirect a POST, which Django refuses in development with a 500)."""
    return json_error(404, f"There is nothing at {request.path}; see /api/v1/docs.")
