"""/api/v1/programs: a workspace's own systems read, add and change programs; and partners answer their default link."""

from __future__ import annotations

import json

import pytest

from partners.models import Program
from tests.accounts.factories import DomainFactory
from tests.partners.factories import ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def domain(workspace):
    return DomainFactory(workspace=workspace, domain="shop.example.com")


def _post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def _patch(client, path, body):
    return client.patch(path, json.dumps(body), content_type="application/json")


def test_adding_a_program_answers_201_with_its_settings(api_client, domain):
    response = _post(
        api_client,
        "/api/v1/programs",
        {
            "name": "Agencies",
            "currency": "eur",
            "default_destination": "https://shop.example.com/agencies",
            "attribution_window_days": 60,
            "attribution_model": "first_click",
            "hold_days": 14,
            "minimum_payout": "50.00",
            "terms": "Be nice.",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["currency"], body["attribution_model"], body["minimum_payout"]) == ("EUR", "first_click", "50.00")
    assert body["landing_page"] == "https://shop.example.com/agencies"


def test_adding_a_program_with_a_name_already_used_answers_the_existing_one(api_client, workspace):
    first = _post(api_client, "/api/v1/programs", {"name": "Agencies"})
    second = _post(api_client, "/api/v1/programs", {"name": "agencies"})

    assert (first.status_code, second.status_code) == (201, 200)
    assert Program.objects.for_workspace(workspace).filter(name__iexact="agencies").count() == 1


def test_a_destination_off_the_verified_domains_is_refused_naming_the_field(api_client, domain):
    response = _post(api_client, "/api/v1/programs", {"name": "X", "default_destination": "https://evil.test/"})

    assert response.status_code == 422
    assert "verified domains" in response.json()["error"]["fields"]["default_destination"][0]


def test_an_unknown_currency_is_refused_with_a_clear_message(api_client):
    response = _post(api_client, "/api/v1/programs", {"name": "X", "currency": "EURO"})

    assert response.status_code == 422
    assert "ISO 4217" in response.json()["error"]["fields"]["currency"][0]


def test_a_window_of_zero_days_is_refused(api_client):
    response = _post(api_client, "/api/v1/programs", {"name": "X", "attribution_window_days": 0})

    assert response.status_code == 422
    assert "attribution_window_days" in response.json()["error"]["fields"]


def test_patch_changes_only_the_fields_sent(api_client, workspace, domain):
    program = ProgramFactory(workspace=workspace, hold_days=30, currency="USD")

    response = _patch(
        api_client,
        f"/api/v1/programs/{program.pk}",
        {"hold_days": 7, "default_destination": "https://shop.example.com/p"},
    )

    assert response.status_code == 200
    program.refresh_from_db()
    assert (program.hold_days, program.currency, program.default_destination) == (
        7,
        "USD",
        "https://shop.example.com/p",
    )


def test_the_program_list_includes_the_default_program(api_client):
    items = api_client.get("/api/v1/programs").json()["items"]

    assert [p["slug"] for p in items] == ["default"]


def test_another_workspaces_program_is_a_404(api_client, other_workspace):
    foreign = ProgramFactory(workspace=other_workspace)

    assert api_client.get(f"/api/v1/programs/{foreign.pk}").status_code == 404
    assert _patch(api_client, f"/api/v1/programs/{foreign.pk}", {"hold_days": 1}).status_code == 404


def test_a_new_partner_answers_its_default_link(api_client, domain):
    body = _post(api_client, "/api/v1/partners", {"name": "Ada", "email": "ada@x.test"}).json()

    assert body["default_link"]["url"].endswith(f"/r/{body['default_link']['code']}")
    assert api_client.get(f"/api/v1/partners/{body['id']}").json()["default_link"] == body["default_link"]


def test_a_partner_of_a_workspace_without_a_verified_domain_has_no_default_link(api_client):
    body = _post(api_client, "/api/v1/partners", {"name": "Ada", "email": "ada@x.test"}).json()

    assert body["default_link"] is None
