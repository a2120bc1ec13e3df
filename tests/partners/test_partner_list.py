from __future__ import annotations

from partners.models import Partner
from tests.partners.factories import PartnerFactory, PartnerGroupFactory, ProgramFactory


def _names(response) -> set[str]:
    return {p.name for p in response.context["page"].object_list}


def test_managers_see_the_workspaces_partners(manager_client, workspace, partner):
    response = manager_client.get(f"/w/{workspace.slug}/partners/")

    assert response.status_code == 200
    assert b"Brightside Media" in response.content


def test_viewers_and_finance_can_read_the_partner_list(viewer_client, finance_client, workspace, partner):
    assert viewer_client.get(f"/w/{workspace.slug}/partners/").status_code == 200
    assert finance_client.get(f"/w/{workspace.slug}/partners/").status_code == 200


def test_the_list_never_shows_another_workspaces_partners(manager_client, workspace, other_workspace, partner):
    PartnerFactory(workspace=other_workspace, name="Globex Partner")

    assert _names(manager_client.get(f"/w/{workspace.slug}/partners/")) == {"Brightside Media"}


def test_search_matches_name_email_and_company(manager_client, workspace, program):
    PartnerFactory(workspace=workspace, program=program, name="Northwind")
    PartnerFactory(workspace=workspace, program=program, name="A", email="north@x.test")
    PartnerFactory(workspace=workspace, program=program, name="B", company="North Co")
    PartnerFactory(workspace=workspace, program=program, name="Southwind")

    response = manager_client.get(f"/w/{workspace.slug}/partners/", {"q": "north"})

    assert _names(response) == {"Northwind", "A", "B"}


def test_the_list_filters_by_status_group_and_program(manager_client, workspace, program):
    group = PartnerGroupFactory(workspace=workspace)
    other_program = ProgramFactory(workspace=workspace)
    PartnerFactory(workspace=workspace, program=program, group=group, name="Match", status=Partner.Status.PENDING)
    PartnerFactory(workspace=workspace, program=program, group=group, name="Active")
    PartnerFactory(
        workspace=workspace, program=other_program, group=group, name="Other program", status=Partner.Status.PENDING
    )

    response = manager_client.get(
        f"/w/{workspace.slug}/partners/", {"status": "pending", "group": group.pk, "program": program.pk}
    )

    assert _names(response) == {"Match"}


def test_another_workspaces_group_in_the_filter_is_ignored(manager_client, workspace, other_workspace, partner):
    foreign = PartnerGroupFactory(workspace=other_workspace)

    response = manager_client.get(f"/w/{workspace.slug}/partners/", {"group": foreign.pk})

    assert response.status_code == 200
    assert _names(response) == {"Brightside Media"}


def test_the_list_shows_25_partners_a_page(manager_client, workspace, program):
    PartnerFactory.create_batch(30, workspace=workspace, program=program)

    first = manager_client.get(f"/w/{workspace.slug}/partners/")
    second = manager_client.get(f"/w/{workspace.slug}/partners/", {"page": 2})

    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5


def test_page_links_keep_the_filters(manager_client, workspace, program):
    PartnerFactory.create_batch(30, workspace=workspace, program=program, status=Partner.Status.ACTIVE)

    response = manager_client.get(f"/w/{workspace.slug}/partners/", {"status": "active", "q": "", "page": 1})

    assert b'href="?status=active&amp;q=&amp;page=2"' in response.content


def test_an_htmx_request_gets_only_the_rows(manager_client, workspace, partner):
    response = manager_client.get(f"/w/{workspace.slug}/partners/", {"q": "bright"}, HTTP_HX_REQUEST="true")

    assert response.content.lstrip().startswith(b'<div id="partner-rows"')
    assert b"Brightside Media" in response.content
    assert b"<html" not in response.content


def test_an_empty_search_says_nothing_matches(manager_client, workspace, partner):
    response = manager_client.get(f"/w/{workspace.slug}/partners/", {"q": "zzz"})

    assert b"No partners match" in response.content


def test_an_outsider_gets_404_on_the_partner_list(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/partners/").status_code == 404


def test_a_partner_login_gets_404_on_the_partner_list(partner_client, workspace):
    assert partner_client.get(f"/w/{workspace.slug}/partners/").status_code == 404
