"""Two rules for every signed-in request (after django-otp's OTPMiddleware, which tells whether this
session proved a second factor):

- someone who has two factors but has only typed the password (whichever sign-in page they used)
  reaches nothing but the code step and sign-out;
- in a workspace whose owner requires two factors, someone without them sets them up before any of
  its pages or its portal.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.models import Workspace
from accounts.two_factor.devices import belongs_to, has_two_factor, workspace_requires_two_factor

_WORKSPACE_PAGES = ("/w/", "/portal/")
# Never behind the code step: key- or signature-authenticated, public, or the way out.
_OPEN = ("/api/", "/webhooks/", "/static/", "/healthz", "/r/")


def _redirect(url_name: str, next_path: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(url_name)}?{urlencode({'next': next_path})}")


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        path = request.path
        if user is None or not user.is_authenticated or path.startswith(_OPEN) or user.is_verified():
            return self.get_response(request)
        if has_two_factor(user):
            if path in (reverse("login_code"), reverse("logout")):
                return self.get_response(request)
            return _redirect("login_code", request.get_full_path())
        if path.startswith(_WORKSPACE_PAGES):
            workspace = Workspace.objects.filter(slug=path.split("/")[2]).only("name", "settings").first()
            # Only for the workspace's own people: to anyone else its pages are a 404, as ever.
            if workspace is not None and workspace_requires_two_factor(workspace) and belongs_to(user, workspace):
                messages.info(
                    request, f"{workspace.name} asks everyone to use two-factor sign-in. Set it up to continue."
                )
                return _redirect("two_factor_setup", request.get_full_path())
        return self.get_response(request)
