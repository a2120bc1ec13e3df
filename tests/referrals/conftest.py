"""Fixtures of the referrals tests: a verified domain, a partner, and a clean click buffer per test."""

from __future__ import annotations

import pytest

from referrals.clicks import buffer
from tests.accounts.factories import DomainFactory, UserFactory
from tests.partners.factories import PartnerFactory, PartnerUserFactory


def _clear_buffer() -> None:
    # Keys are namespaced by database name, so this only touches this test process's keys.
    r = buffer.client()
    keys = list(r.scan_iter(match=buffer.namespace() + ":*", count=1000))
    if keys:
        r.delete(*keys)


@pytest.fixture(autouse=True)
def clean_click_buffer(db):
    _clear_buffer()
    yield
    _clear_buffer()


@pytest.fixture
def domain(workspace):
    return DomainFactory(workspace=workspace, domain="shop.example.com")


@pytest.fixture
def partner(workspace):
    return PartnerFactory(workspace=workspace, name="Paula's Picks")


@pytest.fixture
def portal_user(partner):
    """A portal login of `partner` (the conftest's `partner_user` belongs to a partner of its own)."""
    return PartnerUserFactory(
        partner=partner, workspace=partner.workspace, user=UserFactory(email=f"paula@{partner.workspace.slug}.test")
    ).user
