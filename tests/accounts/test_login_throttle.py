"""Sign-ins are throttled per account and per address: one address trying many accounts is stopped too."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from tests.accounts.factories import UserFactory
from tests.accounts.helpers import sign_in


def from_address(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def test_one_address_trying_many_accounts_is_locked_out(owner):
    attacker = from_address("203.0.113.7")
    for n in range(settings.AXES_IP_FAILURE_LIMIT):
        sign_in(attacker, f"guess{n}@acme.test", "not-the-password")

    response = sign_in(attacker, owner.email)

    assert response.status_code == 429
    assert "_auth_user_id" not in attacker.session


def test_a_locked_address_does_not_lock_the_account_for_everyone_else(owner):
    attacker = from_address("203.0.113.7")
    for n in range(settings.AXES_IP_FAILURE_LIMIT):
        sign_in(attacker, f"guess{n}@acme.test", "not-the-password")

    assert sign_in(from_address("198.51.100.2"), owner.email).status_code == 302


def test_a_few_mistakes_by_several_people_at_one_office_lock_nobody(owner):
    office = from_address("192.0.2.10")
    people = [UserFactory(email=f"colleague{n}@acme.test") for n in range(3)]
    for person in people:
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in(office, person.email, "not-the-password")

    assert sign_in(office, owner.email).status_code == 302


def test_an_account_is_locked_after_failures_from_many_addresses(owner):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(from_address(f"198.51.100.{n + 1}"), owner.email, "not-the-password")

    assert sign_in(from_address("192.0.2.99"), owner.email).status_code == 429


def test_signing_in_to_ones_own_account_does_not_clear_the_address_failures(owner, manager):
    attacker = from_address("203.0.113.7")
    for n in range(settings.AXES_IP_FAILURE_LIMIT - 1):
        sign_in(attacker, f"guess{n}@acme.test", "not-the-password")
    assert sign_in(attacker, manager.email).status_code == 302

    sign_in(from_address("203.0.113.7"), "one-more@acme.test", "not-the-password")

    assert sign_in(from_address("203.0.113.7"), owner.email).status_code == 429


def test_the_lockout_page_says_what_happened_and_what_to_do(owner):
    attacker = from_address("203.0.113.7")
    for n in range(settings.AXES_IP_FAILURE_LIMIT):
        sign_in(attacker, f"guess{n}@acme.test", "not-the-password")

    content = sign_in(attacker, owner.email).content.decode()

    assert "Too many failed sign-ins" in content
    assert "paused for this account or from your network for 15 minutes" in content
    assert "Reset password" in content and "Back to sign in" in content
