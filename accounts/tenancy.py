"""Tenant resolution for staff pages: the workspace comes from the URL, after a membership check."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Manager, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django_htmx.middleware import HtmxDetails

from accounts.models import Membership, Role, User, Workspace

# Who may do what; views name one of these rather than listing roles.
ANY_STAFF = frozenset(Role.values)
MANAGERS = frozenset({Role.OWNER, Role.MANAGER})
FINANCE = frozenset({Role.OWNER, Role.FINANCE})
OWNERS = frozenset({Role.OWNER})


class AuthenticatedRequest(HttpRequest):
    """The request of a view that anonymous people never reach (`login_required`, `workspace_member`)."""

    user: User


class WorkspaceRequest(AuthenticatedRequest):
    workspace: Workspace
    membership: Membership
    htmx: HtmxDetails


# Any response: a CSV export streams (StreamingHttpResponse), a PDF is a FileResponse.
View = Callable[..., HttpResponseBase]


def workspace_member(
    roles: Iterable[str] = ANY_STAFF, *, methods: Iterable[str] = ("GET", "HEAD")
) -> Callable[[View], View]:
    """Resolve `<slug>` to a workspace the signed-in user belongs to (else 404), then check the role (else 403).

    The method check runs after the tenant check, so a foreign URL is a 404 whatever the method; a
    URL naming an object (any parameter besides the slug) is a 404 rather than a 405 for a method the
    view does not take, since the view never got to check that the object is this workspace's.
    """
    allowed_roles = frozenset(roles)
    allowed_methods = frozenset(methods)

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: object, **kwargs: object) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = (
                Membership.objects.select_related("workspace").filter(workspace__slug=slug, user=request.user).first()
            )
            if membership is None:
                raise Http404("No such workspace.")
            if membership.role not in allowed_roles:
                raise PermissionDenied("Your role in this workspace cannot do this.")
            if request.method not in allowed_methods:
                if kwargs:
                    # The URL names an object the view has not looked up yet. A 405 here would answer
                    # before that lookup, so another workspace's id must be a 404 whatever the method.
                    raise Http404("No such page.")
                return HttpResponseNotAllowed(sorted(allowed_methods))
            request.workspace = membership.workspace  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        wrapper.workspace_scoped = True  # type: ignore[attr-defined]
        # Read by the isolation test to know which roles must get 403 rather than 404.
        wrapper.allowed_roles = allowed_roles  # type: ignore[attr-defined]
        wrapper.allowed_methods = allowed_methods  # type: ignore[attr-defined]
        return wrapper

    return decorator


def get_for_workspace_or_404[M: Model](queryset: QuerySet[M] | Manager[M], workspace: Workspace, **lookup: object) -> M:
    """The one way a view loads a tenant row: another workspace's row is simply not found."""
    return get_object_or_404(queryset.filter(workspace=workspace), **lookup)
