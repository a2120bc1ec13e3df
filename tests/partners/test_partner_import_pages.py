"""The partner import's pages: upload, preview with per-row problems, the go-ahead, progress and results."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partners.imports.models import PartnerImport
from partners.models import Partner

pytestmark = pytest.mark.django_db

FILE = b"email,name,country\njo@bright.test,Jo Rivera,US\n,No Email,US\nbad@x.test,Bad Country,Atlantis\n"


def _upload(client, workspace, program, data=FILE, **extra):
    return client.post(
        f"/w/{workspace.slug}/partners/import/",
        {"file": SimpleUploadedFile("partners.csv", data, content_type="text/csv"), "program": program.pk, **extra},
    )


def test_uploading_a_file_shows_its_preview_and_imports_nothing_yet(manager_client, workspace, program):
    response = _upload(manager_client, workspace, program)

    job = PartnerImport.objects.get(workspace=workspace)
    assert response.url == f"/w/{workspace.slug}/partners/import/{job.uuid}/"
    page = manager_client.get(response.url).content.decode()
    assert "Jo Rivera" in page
    assert "No email address: every partner needs one." in page
    assert "“Atlantis” is not a country we know" in page
    assert "2 of 3 rows cannot be imported as they are" in page
    assert "Import 1 partner, skip 2 rows with problems" in page
    assert not Partner.objects.filter(workspace=workspace).exists()


def test_a_file_that_is_not_a_partner_csv_is_an_error_next_to_the_file_field(manager_client, workspace, program):
    response = _upload(manager_client, workspace, program, data=b"name,company\nJo,Acme\n")

    assert response.status_code == 200
    assert "The first line must name the columns" in response.content.decode()
    assert not PartnerImport.objects.exists()


def test_the_go_ahead_imports_in_the_background_and_shows_each_rows_result(
    manager_client, workspace, program, celery_eager, django_capture_on_commit_callbacks
):
    job_url = _upload(manager_client, workspace, program).url

    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(job_url + "start/")

    job = PartnerImport.objects.get(workspace=workspace)
    assert job.status == PartnerImport.Status.DONE
    page = manager_client.get(job_url).content.decode()
    assert "1 added" in page and "2 not imported" in page
    assert ">Added</span>" in page and "No email address" in page
    assert Partner.objects.filter(workspace=workspace, email="jo@bright.test").exists()


def test_the_progress_is_polled_while_the_import_runs(manager_client, workspace, program):
    job_url = _upload(manager_client, workspace, program).url
    PartnerImport.objects.filter(workspace=workspace).update(status="running")

    response = manager_client.get(job_url, HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="import-progress"')
    assert 'hx-trigger="every 1s"' in content
    assert "0 of 3 rows done" in content


def test_a_finished_import_stops_polling(manager_client, workspace, program):
    job_url = _upload(manager_client, workspace, program).url
    PartnerImport.objects.filter(workspace=workspace).update(status="done")

    assert b"every 1s" not in manager_client.get(job_url).content


def test_a_second_go_ahead_does_not_queue_the_import_again(manager_client, workspace, program):
    job_url = _upload(manager_client, workspace, program).url
    manager_client.post(job_url + "start/")
    PartnerImport.objects.filter(workspace=workspace).update(status="done")

    manager_client.post(job_url + "start/")

    assert PartnerImport.objects.get(workspace=workspace).status == "done"


def test_the_partner_list_links_to_the_import(manager_client, workspace, partner):
    assert (
        f"/w/{workspace.slug}/partners/import/".encode() in manager_client.get(f"/w/{workspace.slug}/partners/").content
    )


def test_viewers_cannot_import(viewer_client, workspace, program):
    assert viewer_client.get(f"/w/{workspace.slug}/partners/import/").status_code == 403
    assert _upload(viewer_client, workspace, program).status_code == 403


def test_another_workspaces_import_is_a_404(manager_client, workspace, other_workspace, program):
    from partners.services import ensure_default_program

    foreign = PartnerImport.objects.create(
        workspace=other_workspace, program=ensure_default_program(workspace=other_workspace), filename="x.csv"
    )

    assert manager_client.get(f"/w/{workspace.slug}/partners/import/{foreign.uuid}/").status_code == 404
    assert manager_client.post(f"/w/{workspace.slug}/partners/import/{foreign.uuid}/start/").status_code == 404


def test_an_outsider_gets_404_on_the_import(outsider_client, workspace):
    assert outsider_client.get(f"/w/{workspace.slug}/partners/import/").status_code == 404
