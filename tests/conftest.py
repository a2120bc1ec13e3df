"""Personas shared by every test: staff of each role in one workspace, and an outsider in another."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from tests.accounts.factories import MembershipFactory, UserFactory, WorkspaceFactory


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(slug="acme", name="Acme")


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory(slug="globex", name="Globex")


def _member(workspace, role):
    return MembershipFactory(workspace=workspace, role=role, user=UserFactory(email=f"{role}@{workspace.slug}.test")).user


@pytest.fixture
def owner(workspace):
    return _member(workspace, Role.OWNER)


@pytest.fixture
def manager(workspace):
    return _member(workspace, Role.MANAGER)


@pytest.fixture
def finance(workspace):
    return _member(workspace, Role.FINANCE)


@pytest.fixture
def viewer(workspace):
    return _member(workspace, Role.VIEWER)


@pytest.fixture
def outsider(other_workspace):
    """Owner of another workspace: everything of `workspace` must be a 404 to them."""
    return _member(other_workspace, Role.OWNER)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


@pytest.fixture
def manager_client(manager):
    return client_for(manager)


@pytest.fixture
def finance_client(finance):
    return client_for(finance)


@pytest.fixture
def viewer_client(viewer):
    return client_for(viewer)


@pytest.fixture
def outsider_client(outsider):
    return client_for(outsider)
