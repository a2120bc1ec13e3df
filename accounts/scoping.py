"""Tenant scoping that fails closed: while Tandem serves a request or runs a task, a query of a tenant
model that names no workspace is refused with an error naming the model.

A forgotten `.for_workspace(...)` used to be a leak waiting for the wrong id; now it is an exception
the first time the code runs. A query counts as scoped when its WHERE clause pins a `workspace`
column (`for_workspace`, `filter(workspace=...)`, `filter(partner__workspace=...)`, a subquery's
`workspace=OuterRef(...)`), when it comes from a row already loaded (a related manager such as
`partner.commissions`, or a prefetch), or when it can match nothing (`.none()`).

The few places that truly span tenants (the short link finding its workspace from its code, an API
key finding its workspace, a user's memberships, the beat's sweeps, operators' commands) say so
loudly: `Model.objects.across_workspaces("why")`. The guard is on for every web request
(`WorkspaceScopingMiddleware`, outermost) and every Celery task (config/celery.py); code run by hand
(`manage.py shell`, a test's own set-up) is the operator's and is not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from django.db.models import ForeignKey
from django.db.models.expressions import Col
from django.db.models.sql.where import NothingNode, WhereNode
from django.http import HttpRequest, HttpResponse

_guarded: ContextVar[bool] = ContextVar("tandem_workspace_scoping", default=False)


class UnscopedQueryError(RuntimeError):
    """A tenant model was queried without a workspace while serving a tenant."""


def enter_scoping() -> Token[bool]:
    return _guarded.set(True)


def leave_scoping(token: Token[bool]) -> None:
    _guarded.reset(token)


@contextmanager
def workspace_scoping_enforced() -> Iterator[None]:
    token = enter_scoping()
    try:
        yield
    finally:
        leave_scoping(token)


def scoping_enforced() -> bool:
    return _guarded.get()


def _pins_workspace(node: Any) -> bool:
    """Whether an AND-reachable condition of this WHERE tree is on a `workspace` foreign key (of the
    model or of a joined one). A condition under an OR does not count: `workspace=a OR x` spans."""
    if isinstance(node, NothingNode):
        return True
    if isinstance(node, WhereNode):
        if node.negated:
            return False
        if node.connector == "AND":
            return any(_pins_workspace(child) for child in node.children)
        return bool(node.children) and all(_pins_workspace(child) for child in node.children)
    lhs = getattr(node, "lhs", None)
    if not isinstance(lhs, Col) or getattr(node, "lookup_name", None) not in ("exact", "in"):
        return False
    target = lhs.target
    if isinstance(target, ForeignKey):
        return target.name == "workspace"
    # `workspace__slug=...`: a unique column of the joined workspace names one.
    return target.model._meta.label == "accounts.Workspace" and target.unique


def check_scoped(queryset: Any) -> None:
    """Raise UnscopedQueryError if the guard is on and this tenant queryset names no workspace."""
    if not _guarded.get() or queryset._tenant_scope is not None:
        return
    # A related manager or a prefetch carries the row it came from: that row was loaded scoped.
    if queryset._hints.get("instance") is not None or queryset._known_related_objects:
        return
    if _pins_workspace(queryset.query.where):
        return
    model = queryset.model
    raise UnscopedQueryError(
        f"{model._meta.label} was queried without a workspace. Use "
        f"{model.__name__}.objects.for_workspace(workspace), or, where the query truly spans tenants, "
        f'{model.__name__}.objects.across_workspaces("why").'
    )


# Django's admin is the operators' tool: it lists every workspace's rows on purpose (staff superusers only).
OPERATOR_PATHS = ("/admin/",)


class WorkspaceScopingMiddleware:
    """Turns the guard on for the whole request, the short link's middleware included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(OPERATOR_PATHS):
            return self.get_response(request)
        with workspace_scoping_enforced():
            return self.get_response(request)
