"""The workspace guard (accounts/scoping.py): while a request or a task is served, a tenant query that
names no workspace is an error naming the model, and spanning tenants has one loud spelling."""

from __future__ import annotations

import pytest
from celery import shared_task
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path

from accounts.models import Domain
from accounts.scoping import UnscopedQueryError, scoping_enforced, workspace_scoping_enforced
from partners.models import Partner
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def _guard_state(request: HttpRequest) -> HttpResponse:
    return HttpResponse("on" if scoping_enforced() else "off")


urlpatterns = [path("state/", _guard_state), path("admin/state/", _guard_state)]


@shared_task
def _guard_state_in_a_task() -> bool:
    return scoping_enforced()


@pytest.fixture
def partner(workspace):
    return PartnerFactory(workspace=workspace)


def test_a_query_without_a_workspace_is_refused_naming_the_model(partner):
    with workspace_scoping_enforced(), pytest.raises(UnscopedQueryError, match=r"partners\.Partner .*for_workspace"):
        Partner.objects.filter(pk=partner.pk).first()


@pytest.mark.parametrize(
    "run",
    [
        lambda rows: rows.count(),
        lambda rows: rows.exists(),
        lambda rows: rows.aggregate(n=Count("pk")),
        lambda rows: list(rows.iterator()),
        lambda rows: list(rows.values_list("pk", flat=True)),
        lambda rows: rows.update(notes="x"),
        lambda rows: rows.delete(),
    ],
    ids=["count", "exists", "aggregate", "iterator", "values_list", "update", "delete"],
)
def test_every_way_to_reach_the_database_is_guarded(partner, run):
    with workspace_scoping_enforced(), pytest.raises(UnscopedQueryError):
        run(Partner.objects.filter(pk=partner.pk))
    assert Partner.objects.filter(pk=partner.pk, notes="").exists(), "nothing was changed"


def test_queries_that_name_the_workspace_pass(partner, workspace, other_workspace):
    theirs = PartnerFactory(workspace=other_workspace)
    with workspace_scoping_enforced():
        assert list(Partner.objects.for_workspace(workspace)) == [partner]
        assert Partner.objects.filter(workspace_id=workspace.pk, pk=theirs.pk).count() == 0
        assert Partner.objects.filter(workspace__slug=workspace.slug).get() == partner
        assert Partner.objects.filter(workspace__in=[workspace]).count() == 1
        assert list(Partner.objects.none()) == []
        assert Domain.objects.filter(workspace=workspace).count() == workspace.domains.count()


def test_a_condition_on_the_workspace_that_does_not_narrow_is_not_enough(partner, workspace):
    with workspace_scoping_enforced():
        with pytest.raises(UnscopedQueryError):
            Partner.objects.filter(Q(workspace=workspace) | Q(name="x")).count()
        with pytest.raises(UnscopedQueryError):
            Partner.objects.exclude(workspace=workspace).count()


def test_rows_reached_from_a_loaded_row_pass(partner):
    with workspace_scoping_enforced():
        assert list(partner.program.partners.all()) == [partner]
        assert list(Partner.objects.for_workspace(partner.workspace).prefetch_related("referral_codes", "users")) == [
            partner
        ]


def test_spanning_workspaces_is_said_loudly(partner, other_workspace):
    PartnerFactory(workspace=other_workspace)
    with workspace_scoping_enforced():
        assert Partner.objects.across_workspaces("a test counts every partner").count() == 2
        assert Partner.objects.across_workspaces("a test").filter(name=partner.name).first() == partner


def test_code_run_by_hand_is_the_operators_and_not_checked(partner):
    assert not scoping_enforced()
    assert Partner.objects.filter(pk=partner.pk).first() == partner


@override_settings(ROOT_URLCONF=__name__)
def test_every_request_is_guarded_except_the_operators_admin(client):
    assert client.get("/state/").content == b"on"
    assert client.get("/admin/state/").content == b"off"


def test_every_task_is_guarded():
    assert _guard_state_in_a_task.apply().get() is True
    assert not scoping_enforced(), "the guard ends with the task"
