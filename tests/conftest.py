"""Personas shared by every test: staff of each role in one workspace, and an outsider in another."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from accounts.services import create_api_key
from tests.accounts.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.partners.factories import PartnerUserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 is slow on purpose (~0.2 s a password); tests check who may sign in, not the hash's cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture
def partner_user(workspace):
    """A partner's login in `workspace`: the portal only, never the staff pages."""
    return PartnerUserFactory(partner__workspace=workspace, user=UserFactory(email=f"partner@{workspace.slug}.test")).user


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


@pytest.fixture
def partner_client(partner_user):
    return client_for(partner_user)


@pytest.fixture
def api_key(workspace):
    """The raw key (shown once) of an API key of `workspace`."""
    _, raw = create_api_key(workspace=workspace, name="Test key", created_by=None)
    return raw


@pytest.fixture
def api_client(api_key):
    """A client that sends `workspace`'s API key with every request."""
    return Client(headers={"authorization": f"Bearer {api_key}"})


@pytest.fixture
def celery_eager():
    """Run Celery tasks in-process. Celery reads Django settings once, so the app's own conf is switched."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous
