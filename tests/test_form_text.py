"""Pages refuse text Tandem cannot keep at the edge, naming the field (issue 11, one rule for text)."""

from __future__ import annotations

import pytest

from accounts.models import Domain

pytestmark = pytest.mark.django_db


def test_a_form_field_with_a_control_character_is_a_400_naming_the_field(manager_client, workspace):
    response = manager_client.post(f"/w/{workspace.slug}/settings/domains/", {"domain": "shop\x07.acme.test"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "<strong>domain</strong>" in page and "control character" in page
    assert not Domain.objects.filter(workspace=workspace).exists()


def test_a_nul_in_a_query_parameter_is_a_400_not_a_server_error(manager_client, workspace):
    response = manager_client.get(f"/w/{workspace.slug}/events/", {"q": "cus\x00tomer"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_ordinary_text_with_accents_and_line_breaks_passes(manager_client, workspace):
    response = manager_client.post(f"/w/{workspace.slug}/settings/domains/", {"domain": "bücher.example"}, follow=True)
    assert response.status_code == 200
    assert Domain.objects.filter(workspace=workspace).exists()


def test_the_api_keeps_answering_json_for_its_own_fields(api_client):
    response = api_client.get("/api/v1/partners", {"email": "a\x00b"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unusable_text"
