"""The dashboard's first steps tick only when the thing happened."""

from __future__ import annotations

import html
import re

import pytest

from accounts.models import Domain
from partners.services import ensure_default_program
from tests.accounts.factories import ApiKeyFactory, DomainFactory
from tests.attribution.factories import InboundEventFactory

pytestmark = pytest.mark.django_db


def _done(client, workspace) -> set[str]:
    body = client.get(f"/w/{workspace.slug}/").content.decode()
    return {html.unescape(t) for t in re.findall(r'<li class="done">.*?<strong>(.*?)</strong>', body, flags=re.S)}


def test_nothing_is_ticked_in_a_new_workspace(manager_client, workspace):
    assert _done(manager_client, workspace) == set()


def test_a_domain_ticks_only_once_it_is_verified(manager_client, workspace):
    DomainFactory(workspace=workspace, status=Domain.Status.PENDING)
    assert "Verify your website's domain" not in _done(manager_client, workspace)

    DomainFactory(workspace=workspace)
    assert "Verify your website's domain" in _done(manager_client, workspace)


def test_the_default_destination_step_ticks_only_when_a_manager_set_one(manager_client, workspace):
    DomainFactory(workspace=workspace, domain="shop.example.com")
    body = manager_client.get(f"/w/{workspace.slug}/").content.decode()
    assert "Choose where partner links land" in body
    assert "until you choose, the home page of shop.example.com" in body
    assert "Choose where partner links land" not in _done(manager_client, workspace)

    program = ensure_default_program(workspace=workspace)
    program.default_destination = "https://shop.example.com/pricing"
    program.save(update_fields=["default_destination"])

    assert "Choose where partner links land" in _done(manager_client, workspace)


def test_an_api_key_alone_does_not_tick_connect_your_systems(manager_client, workspace):
    ApiKeyFactory(workspace=workspace)
    assert "Connect your systems" not in _done(manager_client, workspace)

    InboundEventFactory(workspace=workspace)
    assert "Connect your systems" in _done(manager_client, workspace)


def test_each_open_step_links_managers_to_where_it_is_done(manager_client, workspace):
    program = ensure_default_program(workspace=workspace)

    body = manager_client.get(f"/w/{workspace.slug}/").content.decode()

    assert f'href="/w/{workspace.slug}/programs/{program.pk}/edit/">Set the default destination' in body
