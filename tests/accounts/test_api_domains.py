from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditLogEntry, Domain
from tests.accounts.dns_standin import dns_server  # noqa: F401 - fixture
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


def test_a_domain_added_by_api_is_pending_with_the_record_to_add(api_client, workspace):
    body = post(api_client, {"domain": "bücher.example"}).json()

    token = Domain.objects.for_workspace(workspace).get().verification_token
    assert body["status"] == "pending"
    assert body["domain"] == "xn--bcher-kva.example" and body["display_name"] == "bücher.example"
    assert body["verification"] == {"type": "TXT", "name": "xn--bcher-kva.example", "value": f"tandem-verify={token}"}


def test_verify_answers_verified_once_the_txt_record_is_there(api_client, workspace, dns_server):
    created = post(api_client, {"domain": "shop.acme.test"}).json()
    dns_server.txt["shop.acme.test"] = [created["verification"]["value"]]

    response = api_client.post(f"/api/v1/domains/{created['id']}/verify")

    assert response.status_code == 200
    assert response.json()["status"] == "verified"
    assert api_client.get(f"/api/v1/domains/{created['id']}").json()["status"] == "verified"


def test_verify_without_the_record_stays_pending_and_says_what_dns_showed(api_client, dns_server):
    created = post(api_client, {"domain": "shop.acme.test"}).json()

    body = api_client.post(f"/api/v1/domains/{created['id']}/verify").json()

    assert body["status"] == "pending"
    assert body["last_check"] == "shop.acme.test does not exist in DNS yet."


def test_verifying_another_workspaces_domain_is_404(api_client, other_workspace, dns_server):
    theirs = DomainFactory(workspace=other_workspace, domain="globex.test", status=Domain.Status.PENDING)
    dns_server.txt["globex.test"] = [theirs.verification_record]

    response = api_client.post(f"/api/v1/domains/{theirs.pk}/verify")

    assert response.status_code == 404
    assert Domain.objects.get(pk=theirs.pk).status == Domain.Status.PENDING


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
        ("evil.test%2f.shop.acme.test", "not a valid domain name"),
        ("shop.acme.test@evil.test", "without a user name"),
        ("127.0.0.1", "not an IP address"),
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
