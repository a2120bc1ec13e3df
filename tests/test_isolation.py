"""No tenant ever sees another's rows: every URL of the project, filled with another workspace's ids.

The patterns come from the resolver, so a new URL is checked (or reported as uncovered) without
anyone editing this file; how to fill its parameters lives in each app's tests/<app>/isolation.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from ninja import NinjaAPI

from accounts.api_platform import WorkspaceKeyAuth, install_error_handlers, workspace_of
from accounts.models import Domain
from accounts.tenancy import WorkspaceRequest, get_for_workspace_or_404, workspace_member
from accounts.views import remove_domain
from partners.models import PartnerUser
from tests import isolation


def _signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def world(workspace, other_workspace, owner, manager, finance, viewer, partner_user, api_key) -> isolation.World:
    return isolation.World(
        home=workspace,
        foreign=other_workspace,
        staff={user.memberships.get().role: _signed_in(user) for user in (owner, manager, finance, viewer)},
        partner=_signed_in(partner_user),
        anonymous=Client(raise_request_exception=False),
        api_key=api_key,
    )


def _fill_foreign_values(world: isolation.World, registry: isolation.Registry) -> None:
    # One row per registry entry, made once in the other workspace and reused by every request.
    world.values = {key: make(world.foreign) for key, make in registry.foreign_params.items()}


def test_every_url_pattern_is_covered_by_an_isolation_registry():
    registry = isolation.load_registry()
    _, uncovered = isolation.plan_routes(isolation.walk_urls(), registry)
    problems = registry.problems + uncovered
    assert not problems, "URL patterns the isolation test cannot check:\n- " + "\n- ".join(problems)


def test_no_url_answers_with_another_workspaces_rows(world, capsys):
    registry = isolation.load_registry()
    plans, _ = isolation.plan_routes(isolation.walk_urls(), registry)
    _fill_foreign_values(world, registry)

    outcome = isolation.check(plans, world, registry)

    kinds = {kind: sum(plan.kind == kind for plan in plans) for kind in isolation.Kind}
    with capsys.disabled():
        print(
            f"\nisolation: checked {len(plans)} URL patterns ({outcome.requests} requests): "
            + ", ".join(f"{count} {kind}" for kind, count in kinds.items())
        )
    assert not outcome.failures, f"{len(outcome.failures)} answers leak or mislead:\n- " + "\n- ".join(outcome.failures)


# A urlconf for the tests below: patterns the registries cover, two they cannot, and views that
# load a row by its id alone (their names say "leaky") on a staff page, a portal page and the API. They
# step around the workspace guard (accounts/scoping.py) on purpose: the walk must catch a leak by itself.
def _page(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("a page")


@workspace_member()
def _leaky_domain(request: WorkspaceRequest, domain_id: int) -> HttpResponse:
    return HttpResponse(Domain.objects.across_workspaces("a leak on purpose").get(pk=domain_id).domain)


def _portal(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A stand-in for the portal's own decorator: a partner login of the URL's workspace, else 404."""

    def wrapper(request: HttpRequest, slug: str, **kwargs: object) -> HttpResponse:
        login = (
            PartnerUser.objects.filter(workspace__slug=slug, user_id=request.user.pk)
            .select_related("workspace")
            .first()
        )
        if login is None:
            raise Http404
        request.workspace = login.workspace  # type: ignore[attr-defined]
        return view(request, **kwargs)

    return wrapper


@_portal
def _portal_domain(request: HttpRequest, domain_id: int) -> HttpResponse:
    return HttpResponse(get_for_workspace_or_404(Domain.objects, request.workspace, pk=domain_id).domain)  # type: ignore[attr-defined]


@_portal
def _portal_leaky_domain(request: HttpRequest, domain_id: int) -> HttpResponse:
    return HttpResponse(Domain.objects.across_workspaces("a leak on purpose").get(pk=domain_id).domain)


_fake_api = NinjaAPI(auth=WorkspaceKeyAuth(), urls_namespace="isolation-test-api", docs_url=None, openapi_url=None)
install_error_handlers(_fake_api)


@_fake_api.get("/domains/{int:domain_id}", url_name="domain")
def _api_domain(request: HttpRequest, domain_id: int) -> dict[str, str]:
    return {"domain": get_for_workspace_or_404(Domain.objects, workspace_of(request), pk=domain_id).domain}


@_fake_api.get("/leaky/{int:domain_id}", url_name="leaky_domain")
def _api_leaky_domain(request: HttpRequest, domain_id: int) -> dict[str, str]:
    return {"domain": Domain.objects.across_workspaces("a leak on purpose").get(pk=domain_id).domain}


urlpatterns = [
    path("login/", _page, name="login"),
    path("w/<slug:slug>/settings/domains/<int:domain_id>/remove/", remove_domain, name="remove_domain"),
    path("w/<slug:slug>/gadgets/<int:gadget_id>/", _page, name="gadget"),
    path("stats/", _page, name="stats"),
    path("w/<slug:slug>/leaky/<int:domain_id>/", _leaky_domain, name="leaky_domain"),
    path("portal/<slug:slug>/domains/<int:domain_id>/", _portal_domain, name="portal_domain"),
    path("portal/<slug:slug>/leaky/<int:domain_id>/", _portal_leaky_domain, name="portal_leaky_domain"),
    path("api/fake/", _fake_api.urls),
]


@override_settings(ROOT_URLCONF=__name__)
def test_a_url_no_registry_covers_fails_the_coverage_check():
    _, uncovered = isolation.plan_routes(isolation.walk_urls(), isolation.load_registry())

    assert len(uncovered) == 2
    gadget, stats = uncovered
    assert "w/<slug:slug>/gadgets/<int:gadget_id>/" in gadget
    assert "FOREIGN_PARAMS['gadget_id']" in gadget and "tests/accounts/isolation.py" in gadget
    assert "'stats/'" in stats and "PUBLIC_ROUTES" in stats


@override_settings(ROOT_URLCONF=__name__)
def test_views_that_load_rows_by_id_alone_fail_the_isolation_check(world):
    registry = isolation.load_registry()
    plans, _ = isolation.plan_routes(isolation.walk_urls(), registry)
    _fill_foreign_values(world, registry)
    domain_id = world.values["domain_id"]

    failures = isolation.check(plans, world, registry).failures

    assert all("leaky" in failure for failure in failures), "the correctly scoped views must pass"
    assert any(f"GET /w/acme/leaky/{domain_id}/ as viewer answered 200" in failure for failure in failures)
    assert any(
        f"GET /portal/acme/leaky/{domain_id}/ as a partner login of acme answered 200" in failure
        for failure in failures
    )
    assert any(f"GET /api/fake/leaky/{domain_id} with acme's key answered 200" in failure for failure in failures)
