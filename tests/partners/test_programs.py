from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditLogEntry
from partners import services
from partners.models import Program
from tests.partners.factories import ProgramFactory


def test_a_workspace_gets_a_default_program_with_the_documented_defaults(workspace):
    program = services.ensure_default_program(workspace=workspace)

    assert (program.name, program.slug, program.currency) == ("Default", "default", "USD")
    assert program.attribution_window_days == 90
    assert program.attribution_model == Program.Model.LAST_CLICK
    assert program.hold_days == 30
    assert program.minimum_payout == Decimal("0")
    assert program.deal_protection_days == 90
    assert program.public_applications is False


def test_ensuring_the_default_program_twice_makes_one(workspace):
    first = services.ensure_default_program(workspace=workspace)
    second = services.ensure_default_program(workspace=workspace)

    assert first == second
    assert Program.objects.for_workspace(workspace).count() == 1


def test_editing_a_program_records_before_and_after_in_the_audit_log(workspace, manager, program):
    services.update_program(program=program, by=manager, hold_days=14, currency="eur")

    entry = AuditLogEntry.objects.for_workspace(workspace).get(action="program.updated")
    assert entry.actor == manager
    assert entry.changes == {"hold_days": [30, 14], "currency": ["USD", "EUR"]}


def test_saving_a_program_unchanged_records_nothing(workspace, manager, program):
    services.update_program(program=program, by=manager, hold_days=30)

    assert not AuditLogEntry.objects.for_workspace(workspace).filter(action="program.updated").exists()


def test_a_currency_that_is_not_iso_4217_is_refused(manager, program):
    with pytest.raises(ValidationError) as error:
        services.update_program(program=program, by=manager, currency="XYZ")

    assert "currency" in error.value.message_dict


def test_a_new_programs_slug_comes_from_its_name_and_stays_unique(workspace, manager, program):
    ProgramFactory(workspace=workspace, name="Resellers", slug="resellers")

    created = services.create_program(workspace=workspace, by=manager, name="Resellers", currency="EUR")

    assert created.slug == "resellers-2"
    assert created.currency == "EUR"


def test_managers_see_the_program_list(manager_client, workspace, program):
    response = manager_client.get(f"/w/{workspace.slug}/programs/")

    assert response.status_code == 200
    assert b"Default" in response.content


def test_viewers_can_read_the_program_list(viewer_client, workspace, program):
    assert viewer_client.get(f"/w/{workspace.slug}/programs/").status_code == 200


def test_a_manager_edits_a_program_from_its_page(manager_client, workspace, program):
    response = manager_client.post(
        f"/w/{workspace.slug}/programs/{program.pk}/edit/",
        {
            "name": "Default",
            "currency": "GBP",
            "attribution_window_days": 60,
            "attribution_model": "first_click",
            "hold_days": 30,
            "minimum_payout": "25.00",
            "deal_protection_days": 90,
            "public_applications": "on",
            "terms": "Be nice.",
        },
    )

    assert response.status_code == 302
    program.refresh_from_db()
    assert (program.currency, program.attribution_window_days, program.attribution_model) == ("GBP", 60, "first_click")
    assert program.minimum_payout == Decimal("25.00") and program.public_applications is True


def test_a_manager_creates_another_program(manager_client, workspace, program):
    response = manager_client.post(
        f"/w/{workspace.slug}/programs/new/",
        {
            "name": "Resellers EU",
            "currency": "EUR",
            "attribution_window_days": 90,
            "attribution_model": "last_click",
            "hold_days": 30,
            "minimum_payout": "0",
            "deal_protection_days": 90,
            "terms": "",
        },
    )

    assert response.status_code == 302
    assert Program.objects.for_workspace(workspace).get(slug="resellers-eu").currency == "EUR"


def test_a_viewer_cannot_edit_a_program(viewer_client, workspace, program):
    response = viewer_client.post(f"/w/{workspace.slug}/programs/{program.pk}/edit/", {"name": "Mine"})

    assert response.status_code == 403


def test_finance_cannot_create_a_program(finance_client, workspace):
    assert finance_client.post(f"/w/{workspace.slug}/programs/new/", {"name": "Mine"}).status_code == 403


def test_an_outsider_gets_404_on_a_programs_edit_page(outsider_client, workspace, program):
    assert outsider_client.get(f"/w/{workspace.slug}/programs/{program.pk}/edit/").status_code == 404


def test_another_workspaces_program_is_404_on_the_edit_page(manager_client, workspace, other_workspace):
    foreign = ProgramFactory(workspace=other_workspace)

    assert manager_client.get(f"/w/{workspace.slug}/programs/{foreign.pk}/edit/").status_code == 404


def test_terms_posted_with_browser_line_endings_are_not_a_change(workspace, manager, program):
    services.update_program(program=program, by=manager, terms="One.\n\nTwo.")

    services.update_program(program=program, by=manager, terms="One.\r\n\r\nTwo.")

    assert AuditLogEntry.objects.for_workspace(workspace).filter(action="program.updated").count() == 1
