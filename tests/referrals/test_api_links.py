"""POST/GET /api/v1/links with a workspace API key."""

from __future__ import annotations

import json

import pytest

from referrals.models import Link
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import LinkFactory


def post(client, body, **headers):
    return client.post(
        "/api/v1/links",
        json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        **headers,
    )


@pytest.fixture
def body(partner, domain):
    return {"partner_id": partner.pk, "destination_url": "https://shop.example.com/pricing"}


def test_post_makes_a_link_and_answers_201_with_its_short_url(api_client, body, partner):
    response = post(api_client, {**body, "channel": "api", "utm_source": "paula"})
    assert response.status_code == 201
    data = response.json()
    link = Link.objects.get()
    assert data["id"] == link.pk and data["code"] == link.code
    assert data["url"] == f"http://127.0.0.1:8000/r/{link.code}"
    assert (data["partner_id"], data["destination_url"], data["channel"], data["utm_source"]) == (
        partner.pk,
        "https://shop.example.com/pricing",
        "api",
        "paula",
    )


def test_the_same_code_partner_and_destination_again_answers_200_with_the_same_link(api_client, body):
    first = post(api_client, {**body, "code": "paula"})
    again = post(api_client, {**body, "code": "paula"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert Link.objects.count() == 1


def test_the_same_idempotency_key_replays_the_first_answer_with_the_same_generated_link(api_client, body):
    first = post(api_client, body, HTTP_IDEMPOTENCY_KEY="req-1")
    again = post(api_client, body, HTTP_IDEMPOTENCY_KEY="req-1")
    assert (first.status_code, again.status_code) == (201, 201)  # Stripe's rule: the first answer, status included
    assert first.json() == again.json()


def test_a_taken_code_is_a_409_naming_the_field(api_client, body, other_workspace):
    LinkFactory(workspace=other_workspace, code="paula")
    response = post(api_client, {**body, "code": "paula"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "code_taken"
    assert "taken" in response.json()["error"]["fields"]["code"][0]


def test_another_workspaces_partner_is_a_422_on_partner_id(api_client, body, other_workspace):
    response = post(api_client, {**body, "partner_id": PartnerFactory(workspace=other_workspace).pk})
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"partner_id": ["No partner with this id in this workspace."]}


@pytest.mark.parametrize("url", ["https://evil.example.net/", "javascript:alert(1)", "not a url"])
def test_a_bad_destination_is_a_422_on_destination_url(api_client, body, url):
    response = post(api_client, {**body, "destination_url": url})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["destination_url"]


def test_a_bad_code_is_a_422_on_code(api_client, body):
    response = post(api_client, {**body, "code": "no spaces"})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["code"]


def test_a_missing_field_is_a_422_naming_it(api_client, partner):
    response = post(api_client, {"partner_id": partner.pk})
    assert response.status_code == 422
    assert "destination_url" in response.json()["error"]["fields"]


def test_a_malformed_body_is_a_4xx_with_the_error_shape(api_client, domain):
    response = post(api_client, "{not json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_body"


def test_without_a_key_the_api_answers_401(client, body):
    assert post(client, body).status_code == 401


def test_get_lists_the_workspaces_links_newest_first_with_a_cursor(api_client, workspace, partner, other_workspace):
    links = [LinkFactory(workspace=workspace, partner=partner) for _ in range(3)]
    LinkFactory(workspace=other_workspace)
    page = api_client.get("/api/v1/links", {"limit": 2}).json()
    assert [item["id"] for item in page["items"]] == [links[2].pk, links[1].pk]
    rest = api_client.get("/api/v1/links", {"limit": 2, "cursor": page["next"]}).json()
    assert [item["id"] for item in rest["items"]] == [links[0].pk] and rest["next"] is None


def test_get_filters_by_partner(api_client, workspace, partner):
    mine = LinkFactory(workspace=workspace, partner=partner)
    LinkFactory(workspace=workspace)
    items = api_client.get("/api/v1/links", {"partner_id": partner.pk}).json()["items"]
    assert [item["id"] for item in items] == [mine.pk]


def test_another_workspaces_link_is_a_404(api_client, other_workspace):
    foreign = LinkFactory(workspace=other_workspace)
    response = api_client.get(f"/api/v1/links/{foreign.pk}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
