from __future__ import annotations

from accounts.models import Membership, Role
from tests.accounts.factories import MembershipFactory


def change_role(client, workspace, membership, role):
    return client.post(f"/w/{workspace.slug}/settings/members/{membership.pk}/role/", {"role": role}, follow=True)


def remove(client, workspace, membership):
    return client.post(f"/w/{workspace.slug}/settings/members/{membership.pk}/remove/", follow=True)


def role_of(membership) -> str:
    return Membership.objects.get(pk=membership.pk).role


def test_owner_changes_a_members_role(owner_client, manager, workspace):
    membership = manager.memberships.get()

    response = change_role(owner_client, workspace, membership, Role.FINANCE)

    assert f"{manager.email} is now finance.".encode() in response.content
    assert role_of(membership) == Role.FINANCE


def test_the_new_role_takes_effect_at_once(owner_client, manager, manager_client, workspace):
    change_role(owner_client, workspace, manager.memberships.get(), Role.VIEWER)

    assert manager_client.get(f"/w/{workspace.slug}/settings/domains/").status_code == 403


def test_the_last_owner_cannot_be_demoted(owner_client, owner, workspace):
    membership = owner.memberships.get()

    response = change_role(owner_client, workspace, membership, Role.MANAGER)

    assert b"A workspace needs at least one owner." in response.content
    assert role_of(membership) == Role.OWNER


def test_the_last_owner_cannot_be_removed(owner_client, owner, workspace):
    membership = owner.memberships.get()

    response = remove(owner_client, workspace, membership)

    assert b"A workspace needs at least one owner." in response.content
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_owner_may_step_down_while_another_owner_remains(owner_client, owner, workspace):
    MembershipFactory(workspace=workspace, role=Role.OWNER)
    membership = owner.memberships.get()

    change_role(owner_client, workspace, membership, Role.MANAGER)

    assert role_of(membership) == Role.MANAGER


def test_owner_removes_a_member_who_then_gets_404(owner_client, viewer, viewer_client, workspace):
    response = remove(owner_client, workspace, viewer.memberships.get())

    assert f"{viewer.email} no longer has access.".encode() in response.content
    assert viewer_client.get(f"/w/{workspace.slug}/").status_code == 404


def test_an_unknown_role_changes_nothing(owner_client, manager, workspace):
    membership = manager.memberships.get()

    change_role(owner_client, workspace, membership, "emperor")

    assert role_of(membership) == Role.MANAGER


def test_a_manager_cannot_change_roles_or_remove_people(manager_client, viewer, workspace):
    membership = viewer.memberships.get()

    assert (
        manager_client.post(
            f"/w/{workspace.slug}/settings/members/{membership.pk}/role/", {"role": Role.OWNER}
        ).status_code
        == 403
    )
    assert manager_client.post(f"/w/{workspace.slug}/settings/members/{membership.pk}/remove/").status_code == 403
    assert role_of(membership) == Role.VIEWER


def test_only_owners_see_the_role_controls(owner_client, manager_client, viewer, workspace):
    control = f'action="/w/{workspace.slug}/settings/members/{viewer.memberships.get().pk}/role/"'.encode()

    assert control in owner_client.get(f"/w/{workspace.slug}/settings/members/").content
    assert control not in manager_client.get(f"/w/{workspace.slug}/settings/members/").content


def test_outsider_cannot_change_a_role_in_another_workspace(outsider_client, other_workspace, viewer, workspace):
    membership = viewer.memberships.get()

    response = outsider_client.post(
        f"/w/{other_workspace.slug}/settings/members/{membership.pk}/role/", {"role": Role.OWNER}
    )

    assert response.status_code == 404
    assert role_of(membership) == Role.VIEWER


def test_outsider_gets_404_on_the_team_page(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/settings/members/").status_code == 404
