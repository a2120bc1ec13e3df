from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from accounts.models import Workspace
from partners.models import Program


def _run(*args: str) -> str:
    out = StringIO()
    call_command("create_workspace", *args, stdout=out)
    return out.getvalue()


def test_create_workspace_creates_the_default_program(db):
    _run("--slug", "initech", "--name", "Initech", "--owner-email", "bill@initech.test")

    program = Program.objects.get(workspace__slug="initech")
    assert (program.slug, program.name, program.currency) == ("default", "Default", "USD")


def test_create_workspace_twice_keeps_one_default_program(db):
    _run("--slug", "initech", "--name", "Initech", "--owner-email", "bill@initech.test")
    _run("--slug", "initech", "--name", "Initech", "--owner-email", "bill@initech.test")

    assert Program.objects.filter(workspace__slug="initech").count() == 1


def test_create_workspace_prints_the_api_key_alone_on_the_last_line(db):
    output = _run(
        "--slug",
        "initech",
        "--name",
        "Initech",
        "--owner-email",
        "bill@initech.test",
        "--api-key",
        "--domain",
        "shop.initech.test",
    )

    assert output.splitlines()[-1].startswith("tdm_")
    assert Workspace.objects.get(slug="initech").domains.get().domain == "shop.initech.test"
