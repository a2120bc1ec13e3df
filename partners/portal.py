"""Tenant resolution for the partner portal, `/portal/<slug>/…`.

A portal page is for a person who signs in as a partner of the workspace (a `PartnerUser` row).
Staff of the workspace are not partners: without a partner login the portal is a 404 to them too.

One person may be several partners in the same workspace (say, two agencies they run). The page
then acts as one of them: the one named by `?partner=<id>` (remembered in the session for that
workspace), else the one remembered, else the first by name. The switcher in the portal's top bar
links every login with its `?partner=`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.utils.functional import SimpleLazyObject
from django_htmx.middleware import HtmxDetails

from accounts.models import User, Workspace
from partners import selectors
from partners.models import Partner, PartnerUser

_SESSION_KEY = "portal_partner"

View = Callable[..., HttpResponseBase]


class PartnerRequest(HttpRequest):
    # `partner_member` sends anonymous people to sign in before the view runs.
    user: User
    workspace: Workspace
    partner: Partner
    partner_user: PartnerUser
    # Every portal login of the signed-in person, across workspaces, for the switcher.
    partner_logins: list[PartnerUser]
    htmx: HtmxDetails


def _choose(request: HttpRequest, slug: str, logins: list[PartnerUser]) -> PartnerUser:
    by_partner = {str(login.partner_id): login for login in logins}
    remembered: dict[str, str] = request.session.get(_SESSION_KEY, {})
    asked = request.GET.get("partner")
    if asked in by_partner:
        if remembered.get(slug) != asked:
            request.session[_SESSION_KEY] = {**remembered, slug: asked}
        return by_partner[asked]
    return by_partner.get(remembered.get(slug, ""), logins[0])


def partner_member(*, methods: Iterable[str] = ("GET", "HEAD")) -> Callable[[View], View]:
    """Resolve `<slug>` to a workspace where the signed-in user has a partner login (else 404).

    Sets `request.workspace`, `request.partner` and `request.partner_user`; anonymous people are
    sent to sign in. Like `workspace_member`, the method check comes after the tenant check.
    """
    allowed_methods = frozenset(methods)

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: object, **kwargs: object) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            logins = selectors.partner_logins_in(user=request.user, workspace_slug=slug)
            if not logins:
                raise Http404("No such partner portal.")
            if request.method not in allowed_methods:
                if kwargs:
                    # As in workspace_member: the URL names a row not yet looked up, so no 405 before that.
                    raise Http404("No such page.")
                return HttpResponseNotAllowed(sorted(allowed_methods))
            partner_user = _choose(request, slug, logins)
            user = request.user
            request.workspace = partner_user.workspace  # type: ignore[attr-defined]
            request.partner = partner_user.partner  # type: ignore[attr-defined]
            request.partner_user = partner_user  # type: ignore[attr-defined]
            request.partner_logins = SimpleLazyObject(  # type: ignore[attr-defined]
                lambda: selectors.partner_logins_of(user=user)
            )
            return view(request, *args, **kwargs)

        wrapper.workspace_scoped = True  # type: ignore[attr-defined]
        wrapper.partner_scoped = True  # type: ignore[attr-defined]
        return wrapper

    return decorator
