"""The SSRF guard: deliveries reach only public addresses, checked after resolving, and connect to the
address that was checked. Names are resolved by a stand-in at the socket boundary (socket.getaddrinfo)."""

from __future__ import annotations

import socket

import pytest

from accounts.outbound import services
from accounts.outbound.delivery import attempt_delivery
from accounts.outbound.events import emit_event
from accounts.outbound.guard import UnsafeDestination, check_destination
from accounts.outbound.models import WebhookDelivery, WebhookEndpoint
from tests.accounts.outbound_receiver import Receiver, fresh_subscriptions, receiver  # noqa: F401 - fixtures

REFUSED = ["127.0.0.1", "10.0.0.1", "169.254.169.254", "192.168.1.20", "172.16.0.5", "0.0.0.0", "224.0.0.1", "::1"]
REFUSED_V6 = ["fd00:ec2::254", "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"]


@pytest.fixture
def production(settings):
    """Production's rule: loopback refused too."""
    settings.WEBHOOK_ALLOW_LOOPBACK = False


@pytest.fixture
def dns(monkeypatch):
    """name → the addresses it resolves to, each call answering the next list if several are given."""
    answers: dict[str, list[list[str]]] = {}
    calls: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            calls.append(host)
            sequence = answers[host]
            addresses = sequence.pop(0) if len(sequence) > 1 else sequence[0]
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, calls


@pytest.mark.parametrize("address", REFUSED)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(production, address):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeDestination, match="does not send webhooks"):
        check_destination(f"http://{host}/hook")


@pytest.mark.parametrize("address", REFUSED_V6)
def test_ipv6_private_and_metadata_addresses_are_refused(production, address):
    with pytest.raises(UnsafeDestination):
        check_destination(f"https://[{address}]/hook")


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254"])
def test_a_name_that_resolves_to_a_refused_address_is_refused(production, dns, address):
    answers, _ = dns
    answers["hooks.tenant.test"] = [[address]]

    with pytest.raises(UnsafeDestination, match=f"hooks.tenant.test \\({address}\\)"):
        check_destination("https://hooks.tenant.test/tandem")


def test_a_name_with_one_private_answer_among_public_ones_is_refused(production, dns):
    answers, _ = dns
    answers["hooks.tenant.test"] = [["93.184.216.34", "10.0.0.1"]]

    with pytest.raises(UnsafeDestination, match="10.0.0.1"):
        check_destination("https://hooks.tenant.test/tandem")


def test_a_public_address_is_allowed_and_is_what_the_connection_uses(production, dns):
    answers, _ = dns
    answers["hooks.tenant.test"] = [["93.184.216.34"]]

    destination = check_destination("https://hooks.tenant.test:8443/tandem?x=1")

    assert (destination.address, destination.host, destination.port, destination.path) == (
        "93.184.216.34",
        "hooks.tenant.test",
        8443,
        "/tandem?x=1",
    )


def test_registration_refuses_a_name_resolving_to_a_private_address(production, dns, workspace):
    answers, _ = dns
    answers["hooks.tenant.test"] = [["169.254.169.254"]]

    with pytest.raises(Exception, match="cloud metadata"):
        services.create_endpoint(
            workspace=workspace, url="https://hooks.tenant.test/", events=["partner.created"], by=None
        )
    assert not WebhookEndpoint.objects.for_workspace(workspace).exists()


@pytest.mark.django_db
def test_a_delivery_to_a_name_that_now_resolves_to_loopback_is_not_sent(dns, workspace, receiver: Receiver, production):
    answers, _ = dns
    answers["hooks.tenant.test"] = [["93.184.216.34"]]  # public when registered
    services.create_endpoint(
        workspace=workspace, url=f"http://hooks.tenant.test:{receiver.port}/", events=["partner.created"], by=None
    )
    answers["hooks.tenant.test"] = [["127.0.0.1"]]  # and later points at the server itself
    emit_event(workspace, "partner.created", {"id": 1})
    delivery = WebhookDelivery.objects.for_workspace(workspace).get()

    attempt_delivery(workspace_id=workspace.pk, delivery_id=delivery.id)

    assert receiver.requests == []
    delivery.refresh_from_db()
    assert "does not send webhooks" in delivery.last_error and delivery.status == "pending"


@pytest.mark.django_db
def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(dns, workspace, receiver: Receiver):
    answers, calls = dns
    # Registered, then checked once to send: loopback (allowed here, as in development). Were it
    # resolved again to connect, it would say 10.0.0.1.
    answers["hooks.tenant.test"] = [["127.0.0.1"], ["127.0.0.1"], ["10.0.0.1"]]
    services.create_endpoint(
        workspace=workspace, url=f"http://hooks.tenant.test:{receiver.port}/in", events=["partner.created"], by=None
    )
    calls.clear()
    emit_event(workspace, "partner.created", {"id": 1})
    delivery = WebhookDelivery.objects.for_workspace(workspace).get()

    attempt_delivery(workspace_id=workspace.pk, delivery_id=delivery.id)

    [request] = receiver.requests
    assert request.headers["Host"] == f"hooks.tenant.test:{receiver.port}"
    assert calls == ["hooks.tenant.test"]


@pytest.mark.django_db
def test_a_redirect_is_not_followed(workspace, receiver: Receiver):
    services.create_endpoint(workspace=workspace, url=receiver.url, events=["partner.created"], by=None)
    emit_event(workspace, "partner.created", {"id": 1})
    delivery = WebhookDelivery.objects.for_workspace(workspace).get()
    receiver.answers = [302]

    attempt_delivery(workspace_id=workspace.pk, delivery_id=delivery.id)

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.response_status == 302 and delivery.status == "pending"
