from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import Workspace
from tests.accounts.helpers import can_sign_in

TANDEM_APPS = ("accounts", "partners", "referrals", "attribution", "reporting")


def seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    """Rows of every Tandem model, so a second run that duplicates anything shows up."""
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in TANDEM_APPS and not model._meta.proxy
    }


def test_running_seed_demo_twice_adds_nothing_the_second_time(db):
    seed_demo()
    first = counts()

    seed_demo()

    assert counts() == first
    assert first["accounts.Workspace"] == 1 and first["accounts.Membership"] >= 3


def test_seed_demo_prints_the_demo_logins_that_work(db):
    output = seed_demo()

    for email in ("owner@demo.test", "manager@demo.test", "finance@demo.test", "partner@demo.test"):
        assert email in output
        assert can_sign_in(email, "tandem-demo")
    assert "tandem-demo" in output


@override_settings(PRODUCTION=True)
def test_seed_demo_refuses_in_production(db):
    with pytest.raises(CommandError, match="production"):
        seed_demo()

    assert not Workspace.objects.filter(slug="demo").exists()
