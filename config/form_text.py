"""The one rule for text (core.text), at the edge of the pages: form fields and query parameters.

The API, the webhooks and CSV imports check text where they parse it. Pages post forms, and a
form field that reaches a query or a row with a NUL in it fails inside PostgreSQL (a 500); other
control characters store but show as nothing. So every form value and query parameter of a page
request is checked here once, before any view or form sees it, and a value that cannot be stored
is answered with a 400 page naming the field. /api/ and /webhooks/ answer for themselves (JSON).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from config.middleware import JSON_PREFIXES
from core.text import unusable_character


def first_unusable_field(request: HttpRequest) -> tuple[str, str] | None:
    """(field name, sentence) for the first query parameter or form field with an unusable character."""
    sources = [request.GET]
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sources.append(request.POST)
    for values in sources:
        for name, items in values.lists():
            for text in (name, *items):
                problem = unusable_character(text)
                if problem:
                    return name, problem
    return None


class UsableFormTextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(JSON_PREFIXES):
            found = first_unusable_field(request)
            if found is not None:
                field, problem = found
                page = render_to_string("400_text.html", {"field": field, "problem": problem}, request=request)
                return HttpResponse(page, status=400)
        return self.get_response(request)
