"""Personas shared by every test: staff of each role in one workspace, and an outsider in another."""

from __future__ import annotations

import os
import random
import secrets
from datetime import UTC, datetime

import factory.random
import pytest
from django.test import Client

from accounts.models import Role
from accounts.services import create_api_key
from tests.accounts.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.partners.factories import PartnerUserFactory

# --- Chance and the clock, reproducible ------------------------------------------------------
# Each test starts `random`, factory_boy and Faker from a seed made of the run's seed and its own
# id, so a test draws the same values whatever ran before it, on whichever xdist worker. The run's
# seed is new each run (chance still explores) unless TANDEM_TEST_SEED gives it; a failure report
# names it, with the instant the test started at (to replay it under faketime).
SEED_VARIABLE = "TANDEM_TEST_SEED"


def pytest_configure(config):
    # Set once by the xdist controller before its workers start; they inherit the environment.
    os.environ.setdefault(SEED_VARIABLE, str(secrets.randbelow(10**9)))


def pytest_report_header(config):
    return f"random seed: {SEED_VARIABLE}={os.environ[SEED_VARIABLE]}"


_started_at = pytest.StashKey[datetime]()


def _test_seed(nodeid: str) -> int:
    return random.Random(f"{os.environ[SEED_VARIABLE]}:{nodeid}").getrandbits(32)


@pytest.fixture(autouse=True)
def _seeded_chance(request):
    seed = _test_seed(request.node.nodeid)
    random.seed(seed)
    factory.random.reseed_random(seed)
    request.node.stash[_started_at] = datetime.now(UTC)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        started = item.stash.get(_started_at, None)
        report.sections.append(
            (
                "chance and clock",
                (
                    f"rerun with: {SEED_VARIABLE}={os.environ[SEED_VARIABLE]} pytest '{item.nodeid}'\n"
                    f"test started at {started.isoformat() if started else 'n/a'}"
                ),
            )
        )
    return report


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
    return MembershipFactory(
        workspace=workspace, role=role, user=UserFactory(email=f"{role}@{workspace.slug}.test")
    ).user


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
    return PartnerUserFactory(
        partner__workspace=workspace, user=UserFactory(email=f"partner@{workspace.slug}.test")
    ).user


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
