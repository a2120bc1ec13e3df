"""The CSV import pages: upload, mapping with preview, start, progress polling, errors download."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from attribution.inbox import IncomingEvent, accept_events
from attribution.integrations import tasks as csv_tasks
from attribution.integrations.csv_import import run_import, start_import, upload_csv
from attribution.integrations.models import CsvImport

pytestmark = pytest.mark.django_db

CSV = "Customer ID,Amount,Currency\ncus_1,10.00,USD\n,5.00,USD\ncus_3,abc,USD\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def uploaded(workspace):
    row, _ = upload_csv(workspace=workspace, kind="sales", uploaded=SimpleUploadedFile("s.csv", CSV.encode()), by=None)
    return row


def _url(row, suffix=""):
    return f"/w/acme/import/{row.pk}/{suffix}"


def test_a_manager_sees_the_upload_form(manager_client):
    response = manager_client.get("/w/acme/import/")
    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content
    assert b'<label for="id_file">' in response.content


def test_uploading_a_file_leads_to_its_mapping_and_preview(manager_client, workspace):
    response = manager_client.post(
        "/w/acme/import/", {"kind": "sales", "file": SimpleUploadedFile("s.csv", CSV.encode())}
    )
    row = CsvImport.objects.get(workspace=workspace)
    assert response.status_code == 302 and response["Location"] == _url(row)
    page = manager_client.get(_url(row)).content.decode()
    assert "Which column is which?" in page
    assert "The customer id is missing." in page
    assert "is not an amount" in page


def test_uploading_the_same_file_again_opens_the_first_import(manager_client, uploaded):
    response = manager_client.post(
        "/w/acme/import/", {"kind": "sales", "file": SimpleUploadedFile("again.csv", CSV.encode())}, follow=True
    )
    assert response.redirect_chain[-1][0] == _url(uploaded)
    assert "already uploaded" in response.content.decode()
    assert CsvImport.objects.count() == 1


def test_an_upload_without_a_file_says_so_next_to_the_field(manager_client):
    response = manager_client.post("/w/acme/import/", {"kind": "sales"})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_changing_a_column_refreshes_only_the_preview(manager_client, uploaded):
    response = manager_client.get(
        _url(uploaded),
        {
            "preview": "1",
            "map_customer_external_id": "Customer ID",
            "map_amount": "Currency",
            "map_currency": "Currency",
        },
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="preview"' in body
    assert "“USD” is not an amount" in body


def test_trying_a_mapping_saves_nothing(manager_client, uploaded):
    guessed = dict(uploaded.mapping)
    manager_client.get(_url(uploaded), {"preview": "1", "map_amount": "Currency"}, headers={"HX-Request": "true"})
    uploaded.refresh_from_db()
    assert uploaded.mapping == guessed


def test_starting_without_a_required_column_names_it(manager_client, uploaded):
    response = manager_client.post(
        _url(uploaded), {"map_customer_external_id": "Customer ID", "map_amount": "", "map_currency": "Currency"}
    )
    assert response.status_code == 422
    assert "Choose the column that holds the amount." in response.content.decode()


def test_starting_queues_the_job_after_the_commit(
    manager_client, uploaded, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(csv_tasks.run_csv_import, "apply_async", lambda args, **kw: queued.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            _url(uploaded),
            {"map_customer_external_id": "Customer ID", "map_amount": "Amount", "map_currency": "Currency"},
        )
    assert response.status_code == 302
    uploaded.refresh_from_db()
    assert uploaded.status == CsvImport.Status.QUEUED and queued == [uploaded.pk]


def test_the_progress_partial_polls_while_the_import_runs(manager_client, uploaded):
    CsvImport.objects.filter(pk=uploaded.pk).update(status="running", total_rows=4, processed_rows=1)
    body = manager_client.get(_url(uploaded, "progress/"), headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in body and 'value="25"' in body and "<html" not in body


def test_the_progress_partial_stops_polling_when_done(manager_client, uploaded):
    CsvImport.objects.filter(pk=uploaded.pk).update(
        status="queued", mapping={"customer_external_id": "Customer ID", "amount": "Amount", "currency": "Currency"}
    )
    run_import(csv_import_id=uploaded.pk)
    body = manager_client.get(_url(uploaded, "progress/")).content.decode()
    assert "every 1s" not in body
    assert "Imported" in body and "download them" in body


def test_the_errors_download_lists_every_problem_row(manager_client, uploaded):
    CsvImport.objects.filter(pk=uploaded.pk).update(
        status="queued", mapping={"customer_external_id": "Customer ID", "amount": "Amount", "currency": "Currency"}
    )
    run_import(csv_import_id=uploaded.pk)
    response = manager_client.get(_url(uploaded, "errors.csv"))
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "line,column,problem"
    assert [line.split(",")[:2] for line in lines[1:]] == [["3", "Customer ID"], ["4", "Amount"]]


def test_a_viewer_cannot_import(viewer_client):
    assert viewer_client.get("/w/acme/import/").status_code == 403


@pytest.mark.parametrize("suffix", ["", "progress/", "errors.csv"])
def test_an_outsider_gets_404_for_another_workspaces_import(outsider_client, uploaded, suffix):
    assert outsider_client.get(_url(uploaded, suffix)).status_code == 404


def test_an_import_of_another_workspace_is_404_in_ones_own(owner_client, other_workspace):
    row, _ = upload_csv(
        workspace=other_workspace, kind="sales", uploaded=SimpleUploadedFile("s.csv", CSV.encode()), by=None
    )
    assert owner_client.get(f"/w/acme/import/{row.pk}/").status_code == 404
    assert owner_client.post(f"/w/acme/import/{row.pk}/", {"map_amount": "Amount"}).status_code == 404


def _finished(workspace, text: str) -> CsvImport:
    row, _ = upload_csv(workspace=workspace, kind="sales", uploaded=SimpleUploadedFile("t.csv", text.encode()), by=None)
    start_import(csv_import=row, mapping=row.mapping, by=None)
    run_import(csv_import_id=row.pk)
    return row


def test_the_finished_page_says_how_every_line_was_accounted_for(manager_client, workspace):
    accept_events(
        workspace=workspace,
        source="api",
        events=[
            IncomingEvent(
                kind="sale", event_id="o-5", customer_external_id="cus_5", amount=Decimal("5.00"), currency="USD"
            )
        ],
    )
    lines = [f"o-{i},cus_{i},{i}.00,USD\n" for i in range(1, 14)]
    lines[2], lines[7] = "o-3,cus_\x003,3.00,USD\n", "o-8,cus_8,8.00,USD,extra\n"
    row = _finished(workspace, "Order ID,Customer ID,Amount,Currency\n" + "".join(lines))
    text = " ".join(re.sub(r"<[^>]+>", "", manager_client.get(_url(row)).content.decode()).split())
    assert "13 lines: 10 imported, 1 already in Tandem, 2 with problems — download them." in text


def test_the_problems_download_names_the_line_and_column_of_a_broken_quote(manager_client, workspace):
    row = _finished(workspace, 'Customer ID,Amount,Currency\ncus_1,"5.00,USD\ncus_2,7.00,USD\n')
    lines = b"".join(manager_client.get(_url(row, "errors.csv")).streaming_content).decode().splitlines()
    assert lines[0] == "line,column,problem" and lines[1].startswith("2,Amount,A quote opened here is not closed")
    assert len(lines) == 2


def test_a_failed_import_can_be_tried_again_from_where_it_stopped(
    manager_client, workspace, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(csv_tasks.run_csv_import, "apply_async", lambda args, **kw: queued.append(args[0]))
    row = _finished(workspace, "Customer ID,Amount,Currency\ncus_1,5.00,USD\n")
    CsvImport.objects.filter(pk=row.pk).update(
        status="failed", processed_rows=0, accepted_rows=0, failure_reason="The import stopped after 5 retries: boom"
    )
    assert "Try again from line 1" in manager_client.get(_url(row)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(_url(row), {"retry": "1"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.failure_reason, queued) == ("queued", "", [row.pk])
