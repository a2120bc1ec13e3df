"""A domain is proven by a DNS TXT record before links may point to it (a real DNS server stands in)."""

from __future__ import annotations

from django.core.management import call_command

from accounts.models import Domain
from accounts.services import add_domain, check_domain
from accounts.tasks import recheck_pending_domains
from tests.accounts.dns_standin import dns_server  # noqa: F401 - fixture
from tests.accounts.factories import DomainFactory


def add(client, workspace, domain):
    return client.post(f"/w/{workspace.slug}/settings/domains/", {"domain": domain}, follow=True)


def check_now(client, workspace, domain):
    return client.post(f"/w/{workspace.slug}/settings/domains/{domain.pk}/verify/", follow=True)


def pending(workspace, name="shop.acme.test"):
    return DomainFactory(workspace=workspace, domain=name, status=Domain.Status.PENDING)


def test_a_domain_added_on_the_page_waits_for_its_dns_proof(manager_client, workspace):
    response = add(manager_client, workspace, "shop.acme.test")

    domain = Domain.objects.for_workspace(workspace).get()
    assert domain.status == Domain.Status.PENDING
    assert b"Add its TXT record below to prove it is yours" in response.content


def test_the_page_shows_the_txt_record_to_add(manager_client, workspace):
    domain = pending(workspace)

    response = manager_client.get(f"/w/{workspace.slug}/settings/domains/")

    assert f"tandem-verify={domain.verification_token}".encode() in response.content
    assert b"Waiting for DNS proof" in response.content
    assert b"Check now" in response.content


def test_every_domain_gets_its_own_token(workspace, other_workspace):
    mine = add_domain(workspace=workspace, domain="shop.acme.test", actor=None)
    theirs = add_domain(workspace=other_workspace, domain="shop.acme.test", actor=None)

    assert len(mine.verification_token) == 32
    assert mine.verification_token != theirs.verification_token


def test_check_now_verifies_a_domain_whose_txt_record_is_there(manager_client, workspace, dns_server):
    domain = pending(workspace)
    dns_server.txt["shop.acme.test"] = ["v=spf1 -all", f"tandem-verify={domain.verification_token}"]

    response = check_now(manager_client, workspace, domain)

    domain.refresh_from_db()
    assert domain.status == Domain.Status.VERIFIED and domain.verified_at
    assert b"shop.acme.test is verified. Links may now point there." in response.content


def test_check_now_without_the_record_keeps_the_domain_pending_and_says_why(manager_client, workspace, dns_server):
    domain = pending(workspace)
    dns_server.txt["shop.acme.test"] = ["v=spf1 -all"]

    response = check_now(manager_client, workspace, domain)

    domain.refresh_from_db()
    assert domain.status == Domain.Status.PENDING
    assert f"No TXT record tandem-verify={domain.verification_token} on shop.acme.test yet".encode() in response.content


def test_a_record_with_another_workspaces_token_does_not_verify(workspace, dns_server):
    domain = pending(workspace)
    dns_server.txt["shop.acme.test"] = ["tandem-verify=0123456789abcdef0123456789abcdef"]

    check_domain(domain=domain)

    assert domain.status == Domain.Status.PENDING
    assert "with another value" in domain.last_check_message


def test_a_domain_missing_from_dns_is_reported_as_not_existing(workspace, dns_server):
    domain = pending(workspace)

    check_domain(domain=domain)

    assert domain.last_check_message == "shop.acme.test does not exist in DNS yet."


def test_a_dns_server_that_does_not_answer_leaves_the_domain_pending(workspace, dns_server):
    domain = pending(workspace)
    dns_server.silent = True

    check_domain(domain=domain)

    domain.refresh_from_db()
    assert domain.status == Domain.Status.PENDING
    assert domain.last_check_message == "DNS did not answer in time; Tandem will try again."


def test_the_periodic_check_verifies_pending_domains_once_their_record_appears(workspace, dns_server):
    waiting = pending(workspace, "shop.acme.test")
    never = pending(workspace, "blog.acme.test")
    dns_server.txt["shop.acme.test"] = [f"tandem-verify={waiting.verification_token}"]
    dns_server.txt["blog.acme.test"] = []

    verified = recheck_pending_domains.apply().get()

    assert verified == 1
    assert Domain.objects.get(pk=waiting.pk).status == Domain.Status.VERIFIED
    assert Domain.objects.get(pk=never.pk).status == Domain.Status.PENDING


def test_a_verified_domain_stays_verified_when_its_record_is_gone(workspace, dns_server):
    domain = DomainFactory(workspace=workspace, domain="shop.acme.test")

    check_domain(domain=domain)

    assert Domain.objects.get(pk=domain.pk).status == Domain.Status.VERIFIED


def test_the_operator_path_adds_domains_verified_at_once(db):
    call_command(
        "create_workspace",
        slug="initech",
        name="Initech",
        owner_email="bill@initech.test",
        domain=["initech.test"],
        stdout=open("/dev/null", "w"),
    )

    assert Domain.objects.get(domain="initech.test").status == Domain.Status.VERIFIED


def test_the_operator_path_verifies_a_domain_already_pending(workspace):
    pending(workspace, "shop.acme.test")

    add_domain(workspace=workspace, domain="shop.acme.test", actor=None, verified=True)

    assert Domain.objects.for_workspace(workspace).get().status == Domain.Status.VERIFIED


def test_an_outsider_cannot_check_another_workspaces_domain(outsider_client, other_workspace, workspace, dns_server):
    domain = pending(workspace)
    dns_server.txt["shop.acme.test"] = [f"tandem-verify={domain.verification_token}"]

    response = outsider_client.post(f"/w/{other_workspace.slug}/settings/domains/{domain.pk}/verify/")

    assert response.status_code == 404
    assert Domain.objects.get(pk=domain.pk).status == Domain.Status.PENDING
