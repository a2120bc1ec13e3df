from __future__ import annotations

import pytest

from accounts.models import Domain
from tests.accounts.factories import DomainFactory


def add(client, workspace, domain):
    return client.post(f"/w/{workspace.slug}/settings/domains/", {"domain": domain}, follow=True)


def test_manager_adds_a_domain(manager_client, workspace):
    response = add(manager_client, workspace, "shop.acme.test")

    assert response.redirect_chain[-1][0] == f"/w/{workspace.slug}/settings/domains/"
    assert b"shop.acme.test added. Add its TXT record below to prove it is yours" in response.content
    assert [d.domain for d in response.context["domains"]] == ["shop.acme.test"]


def test_a_pasted_address_is_kept_as_its_bare_lower_case_domain(manager_client, workspace):
    add(manager_client, workspace, "  https://Shop.ACME.test/ ")

    assert Domain.objects.for_workspace(workspace).get().domain == "shop.acme.test"


def test_an_international_domain_is_stored_in_its_ascii_form(manager_client, workspace):
    add(manager_client, workspace, "bücher.example")

    assert Domain.objects.for_workspace(workspace).get().domain == "xn--bcher-kva.example"


def test_an_international_domain_is_shown_in_its_unicode_form(manager_client, workspace):
    response = add(manager_client, workspace, "bücher.example")

    assert "<strong>bücher.example</strong>" in response.content.decode()


def test_a_domain_is_read_as_a_browser_reads_it(manager_client, workspace):
    add(manager_client, workspace, "https://%73hop.ＡＣＭＥ.test./")

    assert Domain.objects.for_workspace(workspace).get().domain == "shop.acme.test"


def test_adding_a_domain_twice_keeps_one(manager_client, workspace):
    add(manager_client, workspace, "shop.acme.test")
    add(manager_client, workspace, "SHOP.acme.test")

    assert Domain.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("https://shop.acme.test/checkout", "Enter a bare domain such as shop.example.com, without a path."),
        ("shop.acme.test:8443", "Leave out the port; a domain covers every port."),
        ("*.acme.test", "Wildcards are not allowed; add each domain you send traffic to."),
        ("localhost", "That is not a valid domain name, for example shop.example.com."),
        ("evil.test%2f.shop.acme.test", "That is not a valid domain name, for example shop.example.com."),
        ("shop.acme.test@evil.test", "Enter a bare domain such as shop.example.com, without a user name or password."),
        ("https://203.0.113.7/", "Enter a domain name, not an IP address."),
        ("0x7f.1", "Enter a domain name, not an IP address."),
        ("", "This field is required."),
        ("xn--zz.test", "That is not a valid domain name, for example shop.example.com."),
    ],
)
def test_a_bad_domain_is_refused_with_the_reason_next_to_the_field(manager_client, workspace, domain, message):
    response = add(manager_client, workspace, domain)

    assert response.status_code == 200
    assert response.context["form"].errors["domain"] == [message]
    assert b'class="field has-error"' in response.content
    assert not Domain.objects.exists()


def test_manager_removes_a_domain(manager_client, workspace):
    domain = DomainFactory(workspace=workspace, domain="old.acme.test")

    response = manager_client.post(f"/w/{workspace.slug}/settings/domains/{domain.pk}/remove/", follow=True)

    assert b"old.acme.test removed." in response.content
    assert not Domain.objects.filter(pk=domain.pk).exists()


def test_removing_needs_a_post(manager_client, workspace):
    domain = DomainFactory(workspace=workspace)

    manager_client.get(f"/w/{workspace.slug}/settings/domains/{domain.pk}/remove/")

    assert Domain.objects.filter(pk=domain.pk).exists()


@pytest.mark.parametrize("persona", ["finance_client", "viewer_client"])
def test_only_owners_and_managers_manage_domains(persona, request, workspace):
    client = request.getfixturevalue(persona)
    domain = DomainFactory(workspace=workspace)

    assert client.get(f"/w/{workspace.slug}/settings/domains/").status_code == 403
    assert client.post(f"/w/{workspace.slug}/settings/domains/{domain.pk}/remove/").status_code == 403
    assert Domain.objects.filter(pk=domain.pk).exists()


def test_outsider_gets_404_on_the_domains_page(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/settings/domains/").status_code == 404
    assert add(outsider_client, workspace, "evil.test").status_code == 404
    assert not Domain.objects.exists()


def test_outsider_cannot_remove_another_workspaces_domain(outsider_client, other_workspace, workspace):
    domain = DomainFactory(workspace=workspace)

    response = outsider_client.post(f"/w/{other_workspace.slug}/settings/domains/{domain.pk}/remove/")

    assert response.status_code == 404
    assert Domain.objects.filter(pk=domain.pk).exists()
