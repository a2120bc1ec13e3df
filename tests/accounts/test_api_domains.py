from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditLogEntry, Domain
from tests.accounts.factories import DomainFactory


def post(api_client, body):
    return api_client.post("/api/v1/domains", body, content_type="application/json")


def test_lists_the_workspaces_domains(api_client, workspace):
    DomainFactory(workspace=workspace, domain="shop.acme.test")
    DomainFactory(workspace=workspace, domain="acme.test")

    response = api_client.get("/api/v1/domains")

    assert response.status_code == 200
    body = response.json()
    assert sorted(item["domain"] for item in body["items"]) == ["acme.test", "shop.acme.test"]
    assert body["next"] is None


def test_does_not_list_another_workspaces_domains(api_client, workspace, other_workspace):
    DomainFactory(workspace=workspace, domain="acme.test")
    DomainFactory(workspace=other_workspace, domain="globex.test")

    items = api_client.get("/api/v1/domains").json()["items"]

    assert [item["domain"] for item in items] == ["acme.test"]


def test_long_lists_come_in_pages_with_a_cursor(api_client, workspace):
    for n in range(3):
        DomainFactory(workspace=workspace, domain=f"shop{n}.acme.test")

    first = api_client.get("/api/v1/domains", {"limit": 2}).json()
    second = api_client.get("/api/v1/domains", {"limit": 2, "cursor": first["next"]}).json()

    assert len(first["items"]) == 2 and first["next"]
    assert len(second["items"]) == 1 and second["next"] is None
    seen = [item["domain"] for item in first["items"] + second["items"]]
    assert sorted(seen) == ["shop0.acme.test", "shop1.acme.test", "shop2.acme.test"]


def test_adds_a_domain(api_client, workspace):
    response = post(api_client, {"domain": "https://Shop.Acme.test/"})

    assert response.status_code == 201
    assert response.json()["domain"] == "shop.acme.test"
    assert Domain.objects.for_workspace(workspace).get().pk == response.json()["id"]


def test_the_audit_log_names_the_key_that_added_a_domain(api_client, workspace):
    post(api_client, {"domain": "shop.acme.test"})

    entry = AuditLogEntry.objects.for_workspace(workspace).get(action="domain.added")
    assert entry.actor_label == "API key Test key"


def test_adding_a_domain_again_returns_the_existing_one(api_client, workspace):
    first = post(api_client, {"domain": "shop.acme.test"}).json()

    response = post(api_client, {"domain": "SHOP.acme.test"})

    assert response.status_code == 200
    assert response.json()["id"] == first["id"]
    assert Domain.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        ("https://shop.acme.test/checkout", "without a path"),
        ("shop.acme.test:8443", "Leave out the port"),
        ("*.acme.test", "Wildcards are not allowed"),
        ("not a domain", "not a valid domain name"),
    ],
)
def test_a_bad_domain_is_422_naming_the_field_and_the_reason(api_client, domain, reason):
    response = post(api_client, {"domain": domain})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert reason in error["fields"]["domain"][0]
    assert not Domain.objects.exists()


def test_a_missing_domain_is_422_naming_the_field(api_client):
    response = post(api_client, {})

    assert response.status_code == 422
    assert "domain" in response.json()["error"]["fields"]


def test_without_a_key_the_api_answers_401(db):
    response = Client().get("/api/v1/domains")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_an_unknown_key_is_401(db):
    response = Client().get("/api/v1/domains", headers={"authorization": "Bearer tdm_not-a-real-key"})

    assert response.status_code == 401
