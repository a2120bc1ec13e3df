from __future__ import annotations

import pytest

from accounts.models import ApiKey, AuditLogEntry, Role
from accounts.services import add_domain
from tests.accounts.factories import DomainFactory, MembershipFactory


def audit_rows(client, workspace) -> list[tuple[str, str, str]]:
    """(who, what, object) of each row shown on the audit page, newest first."""
    page = client.get(f"/w/{workspace.slug}/audit/").context["page"]
    return [(entry.actor_label, entry.action, entry.target_repr) for entry in page.object_list]


def test_adding_a_domain_is_recorded_with_who_did_it(manager_client, manager, workspace):
    manager_client.post(f"/w/{workspace.slug}/settings/domains/", {"domain": "shop.acme.test"})

    assert audit_rows(manager_client, workspace)[0] == (manager.email, "domain.added", "shop.acme.test")


def test_removing_a_domain_is_recorded(manager_client, manager, workspace):
    domain = DomainFactory(workspace=workspace, domain="old.acme.test")

    manager_client.post(f"/w/{workspace.slug}/settings/domains/{domain.pk}/remove/")

    assert audit_rows(manager_client, workspace)[0] == (manager.email, "domain.removed", "old.acme.test")


def test_creating_and_revoking_a_key_are_recorded(manager_client, manager, workspace):
    manager_client.post(f"/w/{workspace.slug}/settings/api-keys/", {"name": "Checkout"})
    key = ApiKey.objects.get()
    manager_client.post(f"/w/{workspace.slug}/settings/api-keys/{key.pk}/revoke/")

    assert audit_rows(manager_client, workspace)[:2] == [
        (manager.email, "api_key.revoked", str(key)),
        (manager.email, "api_key.created", str(key)),
    ]


def test_an_invitation_is_recorded_with_its_role(manager_client, manager, workspace):
    manager_client.post(f"/w/{workspace.slug}/settings/members/", {"email": "new@example.test", "role": Role.FINANCE})

    entry = AuditLogEntry.objects.for_workspace(workspace).get(action="staff.invited")
    assert (entry.actor_label, entry.changes) == (manager.email, {"role": "finance"})
    assert audit_rows(manager_client, workspace)[0] == (
        manager.email,
        "staff.invited",
        f"new@example.test → {workspace.name}",
    )


def test_a_role_change_is_recorded_with_before_and_after(owner_client, owner, workspace):
    membership = MembershipFactory(workspace=workspace, role=Role.VIEWER)

    owner_client.post(f"/w/{workspace.slug}/settings/members/{membership.pk}/role/", {"role": Role.MANAGER})

    entry = AuditLogEntry.objects.for_workspace(workspace).get(action="staff.role_changed")
    assert (entry.actor_label, entry.changes) == (owner.email, {"role": ["viewer", "manager"]})
    page = owner_client.get(f"/w/{workspace.slug}/audit/").content.decode()
    assert "Team member&#x27;s role changed" in page and "role: viewer → manager" in page


def test_the_page_shows_who_did_what(manager_client, manager, workspace):
    manager_client.post(f"/w/{workspace.slug}/settings/domains/", {"domain": "shop.acme.test"})

    page = manager_client.get(f"/w/{workspace.slug}/audit/").content

    assert manager.email.encode() in page
    assert b"<td>Website added</td>" in page
    assert b"shop.acme.test" in page


def test_the_log_shows_only_this_workspaces_entries(manager_client, workspace, other_workspace):
    manager_client.post(f"/w/{workspace.slug}/settings/domains/", {"domain": "shop.acme.test"})
    add_domain(workspace=other_workspace, domain="globex.test", actor=None, actor_label="someone at globex")

    assert [row[2] for row in audit_rows(manager_client, workspace)] == ["shop.acme.test"]


@pytest.mark.parametrize("persona", ["owner_client", "manager_client"])
def test_owners_and_managers_read_the_audit_log(persona, request, workspace):
    assert request.getfixturevalue(persona).get(f"/w/{workspace.slug}/audit/").status_code == 200


@pytest.mark.parametrize("persona", ["finance_client", "viewer_client"])
def test_finance_and_viewers_cannot_read_the_audit_log(persona, request, workspace):
    assert request.getfixturevalue(persona).get(f"/w/{workspace.slug}/audit/").status_code == 403


def test_outsider_gets_404_on_the_audit_log(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/audit/").status_code == 404
