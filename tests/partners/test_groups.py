from __future__ import annotations

from partners.models import PartnerGroup
from tests.partners.factories import PartnerGroupFactory


def test_a_manager_creates_a_group(manager_client, workspace):
    response = manager_client.post(f"/w/{workspace.slug}/partners/groups/new/", {"name": "Agencies"})

    assert response.status_code == 302
    assert PartnerGroup.objects.for_workspace(workspace).get().name == "Agencies"


def test_a_group_name_is_unique_in_any_case(manager_client, workspace):
    PartnerGroupFactory(workspace=workspace, name="Agencies")

    response = manager_client.post(f"/w/{workspace.slug}/partners/groups/new/", {"name": "agencies"})

    assert response.status_code == 422
    assert b"already a group" in response.content


def test_the_same_group_name_is_fine_in_another_workspace(manager_client, workspace, other_workspace):
    PartnerGroupFactory(workspace=other_workspace, name="Agencies")

    manager_client.post(f"/w/{workspace.slug}/partners/groups/new/", {"name": "Agencies"})

    assert PartnerGroup.objects.for_workspace(workspace).filter(name="Agencies").exists()


def test_a_manager_renames_a_group(manager_client, workspace):
    group = PartnerGroupFactory(workspace=workspace, name="Agencies")

    manager_client.post(f"/w/{workspace.slug}/partners/groups/{group.pk}/rename/", {"name": "Agency partners"})

    group.refresh_from_db()
    assert group.name == "Agency partners"


def test_viewers_see_groups_but_cannot_create_them(viewer_client, workspace):
    PartnerGroupFactory(workspace=workspace, name="Agencies")

    assert b"Agencies" in viewer_client.get(f"/w/{workspace.slug}/partners/groups/").content
    assert viewer_client.post(f"/w/{workspace.slug}/partners/groups/new/", {"name": "X"}).status_code == 403


def test_another_workspaces_group_is_404_when_renaming(manager_client, workspace, other_workspace):
    foreign = PartnerGroupFactory(workspace=other_workspace, name="Theirs")

    response = manager_client.post(f"/w/{workspace.slug}/partners/groups/{foreign.pk}/rename/", {"name": "Mine"})

    foreign.refresh_from_db()
    assert response.status_code == 404
    assert foreign.name == "Theirs"


def test_an_outsider_gets_404_on_the_groups_page(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/partners/groups/").status_code == 404
