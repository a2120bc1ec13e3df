from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import ApiKey
from accounts.services import create_api_key


def create_key_on_the_page(client, workspace, name="Checkout server") -> tuple[str, object]:
    response = client.post(f"/w/{workspace.slug}/settings/api-keys/", {"name": name})
    match = re.search(rb'<code id="new-key">(tdm_[^<]+)</code>', response.content)
    assert match, "the new key is not shown"
    return match[1].decode(), response


def call_api(key: str):
    return Client().get("/api/v1/domains", headers={"authorization": f"Bearer {key}"})


def test_a_new_key_is_shown_once(manager_client, workspace):
    raw, response = create_key_on_the_page(manager_client, workspace)

    assert response.status_code == 200
    assert raw.encode() not in manager_client.get(f"/w/{workspace.slug}/settings/api-keys/").content


def test_the_key_works_on_the_api(manager_client, workspace):
    raw, _ = create_key_on_the_page(manager_client, workspace)

    assert call_api(raw).status_code == 200


def test_only_a_hash_of_the_key_is_stored(manager_client, workspace):
    raw, _ = create_key_on_the_page(manager_client, workspace)

    stored = ApiKey.objects.values().get(workspace=workspace)
    assert not any(raw in str(value) for value in stored.values())
    assert len(stored["key_hash"]) == 64


def test_the_list_shows_each_keys_prefix_name_and_author(manager_client, manager, workspace):
    raw, _ = create_key_on_the_page(manager_client, workspace, name="Checkout server")

    page = manager_client.get(f"/w/{workspace.slug}/settings/api-keys/").content

    assert f"<code>{raw[:12]}…</code>".encode() in page
    assert b"Checkout server" in page
    assert f"by {manager.email}".encode() in page


def test_revoking_a_key_makes_the_api_answer_401(manager_client, workspace):
    raw, _ = create_key_on_the_page(manager_client, workspace)
    key = ApiKey.objects.get(workspace=workspace)

    response = manager_client.post(f"/w/{workspace.slug}/settings/api-keys/{key.pk}/revoke/", follow=True)

    assert b"revoked; requests using it now get 401" in response.content
    assert b"Revoked" in response.content
    assert call_api(raw).status_code == 401


def test_using_a_key_records_when_it_was_last_used(manager_client, workspace):
    raw, _ = create_key_on_the_page(manager_client, workspace)
    assert b"never" in manager_client.get(f"/w/{workspace.slug}/settings/api-keys/").content

    call_api(raw)

    assert ApiKey.objects.get().last_used_at is not None
    page = manager_client.get(f"/w/{workspace.slug}/settings/api-keys/").content
    assert b"never" not in page


def test_a_key_of_one_workspace_sees_only_that_workspace(workspace, other_workspace):
    _, raw = create_api_key(workspace=other_workspace, name="Globex key", created_by=None)

    assert call_api(raw).json() == {"items": [], "next": None}


@pytest.mark.parametrize("persona", ["finance_client", "viewer_client"])
def test_only_owners_and_managers_manage_keys(persona, request, workspace):
    client = request.getfixturevalue(persona)

    assert client.get(f"/w/{workspace.slug}/settings/api-keys/").status_code == 403
    assert client.post(f"/w/{workspace.slug}/settings/api-keys/", {"name": "Mine"}).status_code == 403
    assert not ApiKey.objects.exists()


def test_outsider_gets_404_on_the_keys_page(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/settings/api-keys/").status_code == 404


def test_outsider_cannot_revoke_another_workspaces_key(outsider_client, other_workspace, workspace):
    key, raw = create_api_key(workspace=workspace, name="Acme key", created_by=None)

    response = outsider_client.post(f"/w/{other_workspace.slug}/settings/api-keys/{key.pk}/revoke/")

    assert response.status_code == 404
    assert call_api(raw).status_code == 200
