from __future__ import annotations

import json

import pytest
from django.core import mail

from partners.models import Partner
from tests.partners.factories import PartnerFactory, PartnerGroupFactory, ProgramFactory


def _post(client, body, **headers):
    return client.post("/api/v1/partners", json.dumps(body), content_type="application/json", **headers)


def test_creating_a_partner_answers_201_with_the_partner(api_client, workspace, program):
    response = _post(
        api_client, {"name": "Northwind", "email": "hello@northwind.test", "country": "us", "external_id": "crm-42"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Northwind" and body["email"] == "hello@northwind.test"
    assert (body["status"], body["country"], body["external_id"]) == ("active", "US", "crm-42")
    assert Partner.objects.for_workspace(workspace).get(pk=body["id"]).program == program


def test_a_partner_without_program_id_joins_the_default_program(api_client, workspace):
    body = _post(api_client, {"name": "Northwind", "email": "hello@northwind.test"}).json()

    assert Partner.objects.get(pk=body["id"]).program.slug == "default"


def test_the_same_email_in_the_same_program_returns_the_existing_partner_with_200(api_client, program):
    first = _post(api_client, {"name": "Northwind", "email": "hello@northwind.test"})
    second = _post(
        api_client, {"name": "Northwind again", "email": "HELLO@northwind.test"}, HTTP_IDEMPOTENCY_KEY="retry-1"
    )

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["name"] == "Northwind"


def test_the_same_email_in_another_program_is_another_partner(api_client, workspace, program):
    other = ProgramFactory(workspace=workspace)
    _post(api_client, {"name": "Northwind", "email": "hello@northwind.test"})

    response = _post(api_client, {"name": "Northwind", "email": "hello@northwind.test", "program_id": other.pk})

    assert response.status_code == 201


def test_an_invited_partner_gets_an_invitation_email(api_client, program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(api_client, {"name": "Harbor", "email": "jo@harbor.test", "status": "invited"})

    assert response.json()["status"] == "invited"
    assert mail.outbox[0].to == ["jo@harbor.test"]


def test_a_partner_can_be_put_in_a_group_by_name(api_client, workspace, program):
    group = PartnerGroupFactory(workspace=workspace, name="Agencies")

    body = _post(api_client, {"name": "Northwind", "email": "hello@northwind.test", "group": "agencies"}).json()

    assert (body["group_id"], body["group"]) == (group.pk, "Agencies")


def test_an_unknown_program_id_is_a_422_naming_the_field(api_client, program):
    response = _post(api_client, {"name": "Northwind", "email": "hello@northwind.test", "program_id": 999999})

    assert response.status_code == 422
    assert "program_id" in response.json()["error"]["fields"]


def test_another_workspaces_program_id_is_a_422_naming_the_field(api_client, other_workspace, program):
    foreign = ProgramFactory(workspace=other_workspace)

    response = _post(api_client, {"name": "Northwind", "email": "hello@northwind.test", "program_id": foreign.pk})

    assert response.status_code == 422
    assert "program_id" in response.json()["error"]["fields"]
    assert not Partner.objects.filter(program=foreign).exists()


def test_an_unknown_group_is_a_422_naming_the_field(api_client, program):
    response = _post(api_client, {"name": "Northwind", "email": "hello@northwind.test", "group": "Nope"})

    assert response.status_code == 422
    assert "group" in response.json()["error"]["fields"]


def test_a_bad_email_is_a_422_naming_the_field(api_client, program):
    response = _post(api_client, {"name": "Northwind", "email": "not-an-email"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert "email" in response.json()["error"]["fields"]


def test_a_missing_name_is_a_422_naming_the_field(api_client, program):
    response = _post(api_client, {"email": "hello@northwind.test"})

    assert response.status_code == 422
    assert "name" in response.json()["error"]["fields"]


def test_an_unknown_country_is_a_422_naming_the_field(api_client, program):
    response = _post(api_client, {"name": "Northwind", "email": "hello@northwind.test", "country": "XX"})

    assert response.status_code == 422
    assert "country" in response.json()["error"]["fields"]


def test_a_status_other_than_active_or_invited_is_a_422(api_client, program):
    response = _post(api_client, {"name": "Northwind", "email": "hello@northwind.test", "status": "suspended"})

    assert response.status_code == 422
    assert "status" in response.json()["error"]["fields"]


def test_a_malformed_body_is_a_4xx_with_the_error_shape(api_client, program):
    response = api_client.post("/api/v1/partners", "{not json", content_type="application/json")

    assert response.status_code in (400, 422)
    assert "message" in response.json()["error"]


def test_listing_partners_pages_with_a_cursor(api_client, workspace, program):
    PartnerFactory.create_batch(3, workspace=workspace, program=program)

    first = api_client.get("/api/v1/partners?limit=2").json()
    second = api_client.get(f"/api/v1/partners?limit=2&cursor={first['next']}").json()

    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert second["next"] is None


def test_listing_partners_filters_by_status(api_client, workspace, program):
    PartnerFactory(workspace=workspace, program=program, status=Partner.Status.PENDING, email="p@x.test")
    PartnerFactory(workspace=workspace, program=program, status=Partner.Status.ACTIVE)

    items = api_client.get("/api/v1/partners?status=pending").json()["items"]

    assert [item["email"] for item in items] == ["p@x.test"]


def test_listing_partners_filters_by_group_and_email(api_client, workspace, program):
    group = PartnerGroupFactory(workspace=workspace, name="Agencies")
    PartnerFactory(workspace=workspace, program=program, group=group, email="a@x.test")
    PartnerFactory(workspace=workspace, program=program, group=group, email="b@x.test")
    PartnerFactory(workspace=workspace, program=program, email="c@x.test")

    by_group = api_client.get("/api/v1/partners?group=Agencies").json()["items"]
    by_email = api_client.get("/api/v1/partners?email=A@x.test").json()["items"]

    assert {item["email"] for item in by_group} == {"a@x.test", "b@x.test"}
    assert [item["email"] for item in by_email] == ["a@x.test"]


def test_listing_never_includes_another_workspaces_partners(api_client, other_workspace, program):
    PartnerFactory(workspace=other_workspace)

    assert api_client.get("/api/v1/partners").json() == {"items": [], "next": None}


def test_an_unknown_status_filter_is_a_422(api_client, program):
    response = api_client.get("/api/v1/partners?status=sleeping")

    assert response.status_code == 422
    assert "status" in response.json()["error"]["fields"]


def test_getting_a_partner_by_id(api_client, partner):
    response = api_client.get(f"/api/v1/partners/{partner.pk}")

    assert response.status_code == 200
    assert response.json()["email"] == partner.email


def test_another_workspaces_partner_is_a_404_with_the_error_shape(api_client, other_workspace, program):
    foreign = PartnerFactory(workspace=other_workspace)

    response = api_client.get(f"/api/v1/partners/{foreign.pk}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_partner_id_is_a_404(api_client, program):
    assert api_client.get("/api/v1/partners/999999").status_code == 404


@pytest.mark.parametrize("method,url", [("get", "/api/v1/partners"), ("post", "/api/v1/partners")])
def test_the_partners_api_needs_a_key(client, db, method, url):
    assert getattr(client, method)(url).status_code == 401
