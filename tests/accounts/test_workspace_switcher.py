from __future__ import annotations

import re

import pytest

from accounts.models import Role
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.conftest import client_for


@pytest.fixture
def owner_of_two(owner, other_workspace):
    """The owner of `workspace`, who is also a viewer of `other_workspace`."""
    MembershipFactory(workspace=other_workspace, user=owner, role=Role.VIEWER)
    return owner


def switcher_links(response) -> list[str]:
    """The workspaces the menu offers (it also holds the person's own account links)."""
    menu = re.search(rb'<details class="switcher">(.*?)</details>', response.content, re.S)
    assert menu, "no workspace switcher on the page"
    return [href.decode() for href in re.findall(rb'href="(/w/[^"]+)"', menu[1])]


def test_a_person_in_two_workspaces_sees_both_in_the_menu(owner_of_two, workspace, other_workspace):
    response = client_for(owner_of_two).get(f"/w/{workspace.slug}/")

    assert switcher_links(response) == [f"/w/{workspace.slug}/", f"/w/{other_workspace.slug}/"]
    assert b'aria-current="true"' in response.content


def test_the_menu_marks_the_workspace_being_viewed(owner_of_two, other_workspace):
    response = client_for(owner_of_two).get(f"/w/{other_workspace.slug}/")

    current = re.search(rb'href="([^"]+)"[^>]*aria-current="true"', response.content)
    assert current and current[1].decode() == f"/w/{other_workspace.slug}/"


def test_home_shows_a_chooser_when_there_are_several_workspaces(owner_of_two, workspace, other_workspace):
    response = client_for(owner_of_two).get("/")

    assert response.status_code == 200
    assert f'href="/w/{workspace.slug}/"'.encode() in response.content
    assert f'href="/w/{other_workspace.slug}/"'.encode() in response.content


def test_home_goes_straight_to_the_only_workspace(owner_client, workspace):
    response = owner_client.get("/")

    assert response.status_code == 302
    assert response["Location"] == f"/w/{workspace.slug}/"


def test_home_without_a_workspace_says_how_to_get_one(db):
    response = client_for(UserFactory()).get("/")

    assert response.status_code == 200
    assert b"No workspace yet" in response.content


def test_the_menu_lists_only_the_persons_own_workspaces(outsider_client, other_workspace, workspace):
    response = outsider_client.get(f"/w/{other_workspace.slug}/")

    assert switcher_links(response) == [f"/w/{other_workspace.slug}/"]
    assert workspace.name.encode() not in response.content


def test_outsider_gets_404_for_a_workspace_they_are_not_in(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/").status_code == 404
