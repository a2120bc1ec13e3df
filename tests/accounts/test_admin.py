import pytest
from django.contrib import admin
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.conftest import client_for


@pytest.fixture
def operator_client(db):
    return client_for(UserFactory(is_staff=True, is_superuser=True))


def test_an_operator_can_open_every_model_list_in_the_admin(operator_client, workspace):
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert operator_client.get(url).status_code == 200, url


def test_the_ledger_cannot_be_edited_or_deleted_in_the_admin(operator_client):
    from attribution.models import LedgerEntry

    model_admin = admin.site._registry[LedgerEntry]
    request = type("R", (), {"user": None})()
    assert not model_admin.has_change_permission(request) and not model_admin.has_delete_permission(request)
