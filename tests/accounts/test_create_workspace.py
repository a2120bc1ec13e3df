from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import ApiKey, Domain, Membership, Role, User, Workspace
from tests.accounts.helpers import can_sign_in


def create_workspace(*args: str) -> list[str]:
    out = StringIO()
    call_command(
        "create_workspace",
        "--slug",
        "initech",
        "--name",
        "Initech",
        "--owner-email",
        "bill@initech.test",
        *args,
        stdout=out,
    )
    return out.getvalue().splitlines()


def test_creates_the_workspace_its_owner_and_domains(db):
    output = create_workspace("--domain", "initech.test", "--domain", "https://Shop.Initech.test/")

    workspace = Workspace.objects.get(slug="initech")
    assert workspace.name == "Initech"
    assert Membership.objects.get(workspace=workspace).user.email == "bill@initech.test"
    assert Membership.objects.get(workspace=workspace).role == Role.OWNER
    assert sorted(Domain.objects.for_workspace(workspace).values_list("domain", flat=True)) == [
        "initech.test",
        "shop.initech.test",
    ]
    assert output[0].startswith("Created workspace initech (Initech); owner bill@initech.test")


def test_the_owner_password_lets_the_owner_sign_in(db):
    create_workspace("--owner-password", "tps-reports-2024")

    assert can_sign_in("bill@initech.test", "tps-reports-2024")


def test_the_api_key_is_printed_alone_on_the_last_line_and_works(db):
    output = create_workspace("--domain", "initech.test", "--api-key")

    key = output[-1]
    assert key.startswith("tdm_") and " " not in key
    response = Client().get("/api/v1/domains", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert [item["domain"] for item in response.json()["items"]] == ["initech.test"]


def test_running_it_twice_is_safe(db):
    create_workspace("--domain", "initech.test")

    output = create_workspace("--domain", "initech.test", "--domain", "shop.initech.test")

    assert Workspace.objects.filter(slug="initech").count() == 1
    assert User.objects.filter(email="bill@initech.test").count() == 1
    assert Membership.objects.filter(workspace__slug="initech").count() == 1
    assert Domain.objects.filter(workspace__slug="initech").count() == 2
    assert output[0].startswith("Updated existing workspace initech")


def test_without_api_key_no_key_is_made_or_printed(db):
    output = create_workspace()

    assert not ApiKey.objects.exists()
    assert not any(line.startswith("tdm_") for line in output)


@pytest.mark.parametrize("slug", ["Not A Slug", "-initech", "admin", "api"])
def test_a_bad_or_reserved_slug_is_refused(db, slug):
    with pytest.raises(CommandError):
        call_command(
            "create_workspace", "--slug", slug, "--name", "X", "--owner-email", "x@example.test", stdout=StringIO()
        )

    assert not Workspace.objects.exists()


def test_a_bad_domain_is_refused_and_nothing_is_created(db):
    with pytest.raises(CommandError, match="Wildcards are not allowed"):
        create_workspace("--domain", "*.initech.test")

    assert not Workspace.objects.filter(slug="initech").exists()
    assert not User.objects.filter(email="bill@initech.test").exists()
