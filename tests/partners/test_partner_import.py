"""Importing partners from a CSV file: reading and checking rows, then importing them (each row on its own)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditLogEntry
from partners.imports.models import PartnerImport
from partners.imports.reading import FileProblem, read_partner_rows
from partners.imports.services import create_import, run_import, start_import
from partners.models import Partner, PartnerGroup
from referrals.models import Link
from tests.accounts.factories import DomainFactory
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

GOOD = (
    b"email,name,company,country,group\njo@bright.test,Jo Rivera,Brightside,US,Gold\nsam@north.test,Sam Lee,,Germany,\n"
)


def _errors(data: bytes) -> dict[int, list[str]]:
    return {row["line"]: row["errors"] for row in read_partner_rows(data)}


def test_rows_are_read_with_their_spreadsheet_line_numbers():
    rows = read_partner_rows(GOOD)

    assert [(r["line"], r["email"], r["country"]) for r in rows] == [
        (2, "jo@bright.test", "US"),
        (3, "sam@north.test", "DE"),
    ]
    assert all(r["errors"] == [] for r in rows)


def test_a_missing_email_is_named_in_plain_words():
    assert _errors(b"email,name\n,Jo\n")[2] == ["No email address: every partner needs one."]


def test_a_bad_country_is_named_with_what_to_write_instead():
    (problem,) = _errors(b"email,country\njo@x.test,Atlantis\n")[2]

    assert problem.startswith("“Atlantis” is not a country we know; use a two-letter code")


def test_a_duplicate_email_in_the_file_points_at_the_first_line():
    errors = _errors(b"email\njo@x.test\nJO@x.test\n")

    assert errors[2] == []
    assert errors[3] == ["Duplicate: jo@x.test is already on line 2 of this file."]


def test_a_row_without_a_name_takes_the_start_of_its_email():
    assert read_partner_rows(b"email\nsam.lee@x.test\n")[0]["name"] == "sam.lee"


def test_headings_in_other_words_and_semicolons_are_understood():
    rows = read_partner_rows(b"E-mail address;Full name;Organisation\nJo@X.test;Jo;Acme\n")

    assert (rows[0]["email"], rows[0]["name"], rows[0]["company"]) == ("jo@x.test", "Jo", "Acme")


def test_a_spreadsheets_windows_encoding_is_read():
    assert read_partner_rows("email,name\njo@x.test,José\n".encode("cp1252"))[0]["name"] == "José"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "The file is empty."),
        (b"name,company\nJo,Acme\n", "The first line must name the columns"),
        (b"email\n", "no partners under it"),
        (b"email\n\x00\n", "NUL characters"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(data, says):
    with pytest.raises(FileProblem, match=says):
        read_partner_rows(data)


def test_a_control_character_in_a_cell_is_a_row_error_not_a_crash():
    (problem,) = _errors(b"email,company\njo@x.test,Ac\x07me\n")[2]

    assert problem.startswith("The company cannot be stored.")


def _import(workspace, program, data=GOOD, **kwargs) -> PartnerImport:
    job = create_import(workspace=workspace, program=program, data=data, filename="partners.csv", by=None, **kwargs)
    start_import(partner_import=job, by=None)
    return run_import(workspace_id=workspace.pk, import_uuid=job.uuid)


def test_importing_adds_each_good_row_as_an_active_partner(workspace, program):
    job = _import(workspace, program)

    assert job.status == PartnerImport.Status.DONE
    assert (job.created_count, job.existing_count, job.failed_count) == (2, 0, 0)
    jo = Partner.objects.get(workspace=workspace, email="jo@bright.test")
    assert (jo.name, jo.company, jo.country, jo.status, jo.group.name) == (
        "Jo Rivera",
        "Brightside",
        "US",
        "active",
        "Gold",
    )


def test_every_imported_partner_gets_its_default_link_at_once(workspace, program):
    DomainFactory(workspace=workspace, domain="shop.example.com")

    _import(workspace, program)

    for partner in Partner.objects.filter(workspace=workspace):
        assert Link.objects.filter(workspace=workspace, partner=partner, is_default=True).count() == 1


def test_a_bad_row_never_fails_the_rest(workspace, program):
    job = _import(workspace, program, data=b"email,country\nok1@x.test,US\n,US\nbad@x.test,Atlantis\nok2@x.test,\n")

    assert (job.created_count, job.failed_count) == (2, 2)
    assert [r["outcome"] for r in job.results] == ["created", "skipped", "skipped", "created"]
    assert job.results[1]["message"] == "No email address: every partner needs one."


def test_importing_the_same_file_twice_creates_nobody_twice(workspace, program):
    _import(workspace, program)
    again = _import(workspace, program)

    assert Partner.objects.filter(workspace=workspace).count() == 2
    assert (again.created_count, again.existing_count) == (0, 2)
    assert again.results[0]["message"].startswith("Already a partner")


def test_an_existing_partner_is_left_as_it_was(workspace, program):
    PartnerFactory(workspace=workspace, program=program, email="jo@bright.test", name="Jo Original")

    _import(workspace, program)

    assert Partner.objects.get(workspace=workspace, email="jo@bright.test").name == "Jo Original"


def test_running_the_task_again_after_it_finished_changes_nothing(workspace, program):
    job = _import(workspace, program)

    again = run_import(workspace_id=workspace.pk, import_uuid=job.uuid)

    assert len(again.results) == 2
    assert AuditLogEntry.objects.filter(action="partners.imported").count() == 1


def test_a_run_stopped_midway_carries_on_from_the_next_row(workspace, program):
    job = create_import(workspace=workspace, program=program, data=GOOD, filename="p.csv", by=None)
    start_import(partner_import=job, by=None)
    PartnerImport.objects.filter(uuid=job.uuid).update(
        status="running", results=[{"line": 2, "email": "jo@bright.test", "outcome": "failed", "message": "x"}]
    )

    done = run_import(workspace_id=workspace.pk, import_uuid=job.uuid)

    assert [r["line"] for r in done.results] == [2, 3]
    assert not Partner.objects.filter(email="jo@bright.test").exists()


def test_invited_imports_email_each_new_partner(workspace, program, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _import(workspace, program, invite=True)

    assert sorted(m.to[0] for m in mailoutbox) == ["jo@bright.test", "sam@north.test"]
    assert set(Partner.objects.filter(workspace=workspace).values_list("status", flat=True)) == {"invited"}


def test_the_chosen_group_applies_where_the_file_names_none(workspace, program):
    silver = PartnerGroup.objects.create(workspace=workspace, name="Silver")

    _import(workspace, program, group=silver)

    assert Partner.objects.get(email="sam@north.test").group == silver
    assert Partner.objects.get(email="jo@bright.test").group.name == "Gold"


def test_an_unreadable_file_is_an_error_on_the_file_field(workspace, program):
    with pytest.raises(ValidationError) as exc:
        create_import(workspace=workspace, program=program, data=b"", filename="x.csv", by=None)

    assert exc.value.message_dict == {"file": ["The file is empty."]}
