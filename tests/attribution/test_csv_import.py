"""CSV import: mapping, preview errors, and the streaming job (chunks, progress, no duplicates)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from attribution.integrations import csv_import, csv_rows
from attribution.integrations.csv_import import run_import, start_import, upload_csv
from attribution.integrations.csv_rows import guess_mapping, preview
from attribution.integrations.models import CsvImport
from attribution.models import InboundEvent

pytestmark = pytest.mark.django_db

SALES = (
    "Order ID,Customer ID,Amount,Currency,Date,Email\n"
    "o-1,cus_1,100.00,USD,2024-05-01,a@example.com\n"
    ",,12.50,EUR,2024-05-02,\n"
    "o-3,cus_3,twelve,USD,2024-05-03,\n"
    "o-4,cus_4,10.00,XYZ,2024-05-04,\n"
    "o-5,cus_5,10.00,USD,31/12/2024,\n"
    'o-6,cus_6,"1,234.56",usd,2024-05-06T10:00:00Z,\n'
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload(workspace, text: str = SALES, kind: str = "sales", name: str = "sales.csv"):
    return upload_csv(
        workspace=workspace, kind=kind, uploaded=SimpleUploadedFile(name, text.encode(), "text/csv"), by=None
    )


def _started(workspace, text: str = SALES, kind: str = "sales") -> CsvImport:
    row, _ = _upload(workspace, text, kind)
    return start_import(csv_import=row, mapping=row.mapping, by=None)


def test_the_mapping_is_guessed_from_usual_column_names():
    headers = ["Order ID", "Customer ID", "Amount", "Currency", "Date", "Email"]
    assert guess_mapping("sales", headers) == {
        "customer_external_id": "Customer ID",
        "amount": "Amount",
        "currency": "Currency",
        "occurred_at": "Date",
        "event_id": "Order ID",
        "customer_email": "Email",
    }


def test_a_lead_file_maps_tclid_and_code_columns():
    assert guess_mapping("leads", ["customer", "tclid", "Referral Code"]) == {
        "customer_external_id": "customer",
        "click_id": "tclid",
        "code": "Referral Code",
    }


def test_an_upload_keeps_the_file_its_hash_and_its_columns(workspace):
    row, created = _upload(workspace)
    assert created and row.status == CsvImport.Status.UPLOADED
    assert row.file_sha256 == hashlib.sha256(SALES.encode()).hexdigest()
    assert row.headers[:3] == ["Order ID", "Customer ID", "Amount"]
    assert row.file.name == f"imports/{workspace.pk}/{row.file_sha256}.csv"


def test_a_semicolon_separated_file_is_read_as_such(workspace):
    row, _ = _upload(workspace, "customer_id;amount;currency\ncus_1;10.00;EUR\n")
    assert row.delimiter == ";"
    assert row.mapping == {"customer_external_id": "customer_id", "amount": "amount", "currency": "currency"}


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"\xff\xfe\x00b\x00a\x00d", "UTF-8"),
        (b"id,id\n1,2\n", "name of its own"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_with_the_reason(workspace, content, message):
    with pytest.raises(ValidationError) as caught:
        upload_csv(workspace=workspace, kind="sales", uploaded=SimpleUploadedFile("x.csv", content), by=None)
    assert message in " ".join(caught.value.messages)
    assert not CsvImport.objects.exists()


def test_a_file_over_the_size_limit_is_refused(workspace, monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(ValidationError, match="larger than"):
        _upload(workspace)


def test_the_preview_names_each_rows_problems(workspace):
    row, _ = _upload(workspace)
    rows = preview(row, row.mapping)
    problems = {r.number: [e.message for e in r.errors] for r in rows}
    assert problems[2] == []
    assert problems[3] == ["The customer id is missing."]
    assert "is not an amount" in problems[4][0]
    assert "not an ISO 4217 currency" in problems[5][0]
    assert "is not a date" in problems[6][0]
    assert problems[7] == []


def test_the_preview_stops_at_twenty_rows(workspace):
    text = "customer_id,amount,currency\n" + "".join(f"c{i},1.00,USD\n" for i in range(50))
    row, _ = _upload(workspace, text)
    assert [r.number for r in preview(row, row.mapping)] == list(range(2, 22))


def test_more_decimals_than_the_currency_has_is_a_row_error(workspace):
    row, _ = _upload(workspace, "customer_id,amount,currency\nc1,10.5,JPY\n")
    assert "more decimal places than JPY" in preview(row, row.mapping)[0].errors[0].message


def test_a_lead_row_without_click_code_or_partner_is_an_error(workspace):
    row, _ = _upload(workspace, "customer_id,email\nc1,a@example.com\n", kind="leads")
    assert preview(row, row.mapping)[0].errors[0].message.startswith("A lead needs a click id")


def test_starting_needs_every_required_column(workspace):
    row, _ = _upload(workspace, "customer_id,total_cost\nc1,10\n")
    with pytest.raises(ValidationError) as caught:
        start_import(csv_import=row, mapping=row.mapping, by=None)
    assert set(caught.value.message_dict) == {"amount", "currency"}
    row.refresh_from_db()
    assert row.status == CsvImport.Status.UPLOADED


def test_the_job_imports_the_good_rows_and_counts_the_bad(workspace):
    row = _started(workspace)
    run_import(csv_import_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.total_rows, row.processed_rows, row.accepted_rows, row.error_rows) == ("done", 6, 6, 2, 4)
    assert [e["row"] for e in row.errors] == [3, 4, 5, 6]
    sales = {e.event_id: e.payload for e in InboundEvent.objects.for_workspace(workspace)}
    assert sales["o-1"]["amount"] == "100.00"
    assert (sales["o-6"]["amount"], sales["o-6"]["currency"]) == ("1234.56", "USD")
    assert all(e.source == "csv" for e in InboundEvent.objects.all())


def test_rows_without_their_own_id_get_one_from_the_file_and_row(workspace):
    row = _started(workspace, "customer_id,amount,currency\nc1,1.00,USD\nc2,2.00,USD\n")
    run_import(csv_import_id=row.pk)
    assert set(InboundEvent.objects.values_list("event_id", flat=True)) == {
        f"csv:{row.file_sha256}:2",
        f"csv:{row.file_sha256}:3",
    }


def test_uploading_the_same_file_again_is_the_same_import_and_adds_nothing(workspace):
    row = _started(workspace)
    run_import(csv_import_id=row.pk)
    again, created = _upload(workspace, name="renamed.csv")
    assert not created and again.pk == row.pk
    assert InboundEvent.objects.count() == 2
    assert CsvImport.objects.count() == 1


def test_running_the_job_twice_changes_nothing(workspace):
    row = _started(workspace)
    run_import(csv_import_id=row.pk)
    run_import(csv_import_id=row.pk)
    row.refresh_from_db()
    assert (InboundEvent.objects.count(), row.processed_rows, row.accepted_rows) == (2, 6, 2)


def test_rows_go_to_the_inbox_in_chunks_of_a_thousand(workspace, monkeypatch):
    sizes = []
    real = csv_import.accept_events

    def spy(**kwargs):
        sizes.append(len(kwargs["events"]))
        return real(**kwargs)

    monkeypatch.setattr(csv_import, "accept_events", spy)
    text = "customer_id,amount,currency\n" + "".join(f"c{i},1.00,USD\n" for i in range(2500))
    row = _started(workspace, text)
    run_import(csv_import_id=row.pk)
    assert sizes == [1000, 1000, 500]
    assert InboundEvent.objects.count() == 2500


def test_a_job_that_died_mid_file_resumes_after_the_last_committed_chunk(workspace, monkeypatch):
    monkeypatch.setattr(csv_import, "CHUNK_ROWS", 2)
    real = csv_import.accept_events
    calls = {"n": 0}

    def dies_on_second_chunk(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real(**kwargs)

    monkeypatch.setattr(csv_import, "accept_events", dies_on_second_chunk)
    text = "customer_id,amount,currency\n" + "".join(f"c{i},1.00,USD\n" for i in range(5))
    row = _started(workspace, text)
    with pytest.raises(RuntimeError):
        run_import(csv_import_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.processed_rows) == ("running", 2)
    run_import(csv_import_id=row.pk)  # the broker redelivers the task (acks_late)
    row.refresh_from_db()
    assert (row.status, row.processed_rows, row.accepted_rows, row.duplicate_rows) == ("done", 5, 5, 0)
    assert InboundEvent.objects.count() == 5


def test_progress_is_recorded_after_each_chunk(workspace, monkeypatch):
    monkeypatch.setattr(csv_import, "CHUNK_ROWS", 2)
    seen = []
    real = csv_import.accept_events

    def watch(**kwargs):
        seen.append(CsvImport.objects.get().processed_rows)
        return real(**kwargs)

    monkeypatch.setattr(csv_import, "accept_events", watch)
    text = "customer_id,amount,currency\n" + "".join(f"c{i},1.00,USD\n" for i in range(5))
    row = _started(workspace, text)
    run_import(csv_import_id=row.pk)
    assert seen == [0, 2, 4]
    row.refresh_from_db()
    assert (row.total_rows, row.percent_done) == (5, 100)


def test_an_import_waiting_for_its_mapping_is_not_run(workspace):
    row, _ = _upload(workspace)
    run_import(csv_import_id=row.pk)
    assert not InboundEvent.objects.exists()


def test_lead_rows_become_leads(workspace):
    row = _started(workspace, "customer,tclid,code\nc1,clk_1,\nc2,,ANNA20\n", kind="leads")
    run_import(csv_import_id=row.pk)
    leads = {e.payload["customer_external_id"]: e.payload for e in InboundEvent.objects.filter(kind="lead")}
    assert leads["c1"]["click_id"] == "clk_1" and leads["c2"]["code"] == "ANNA20"


def test_every_error_can_be_found_again_for_the_download(workspace):
    row = _started(workspace)
    run_import(csv_import_id=row.pk)
    assert [(e.row, e.column) for e in csv_rows.iter_errors(row)] == [
        (3, "Customer ID"),
        (4, "Amount"),
        (5, "Currency"),
        (6, "Date"),
    ]


def test_a_job_that_keeps_failing_is_retried_then_marked_failed(workspace, monkeypatch):
    from attribution.integrations import tasks as csv_tasks

    attempts = []

    def broken(*, csv_import_id):
        attempts.append(csv_import_id)
        raise RuntimeError("database went away")

    monkeypatch.setattr(csv_import, "run_import", broken)
    row = _started(workspace)
    result = csv_tasks.run_csv_import.apply(args=[row.pk])
    assert result.failed()
    assert len(attempts) == csv_tasks.MAX_RETRIES + 1
    row.refresh_from_db()
    assert row.status == CsvImport.Status.FAILED and "database went away" in row.failure_reason


# --- Every line accounted for (issue 11) --------------------------------------------------------------

HEADER = "Order ID,Customer ID,Amount,Currency\n"


def _run(workspace, text: str) -> CsvImport:
    row = _started(workspace, text)
    run_import(csv_import_id=row.pk)
    row.refresh_from_db()
    return row


def _imported_amounts(workspace) -> dict[str, str]:
    return {e.event_id: e.payload["amount"] for e in InboundEvent.objects.for_workspace(workspace)}


def test_a_line_with_a_nul_byte_is_one_problem_and_the_others_are_imported(workspace):
    row = _run(workspace, HEADER + "o-1,cus_1,10.00,USD\no-2,cus_\x002,20.00,USD\no-3,cus_3,30.00,USD\n")
    assert (row.status, row.accepted_rows, row.error_rows) == ("done", 2, 1)
    assert row.errors == [{"row": 3, "column": "Customer ID", "message": row.errors[0]["message"]}]
    assert "NUL" in row.errors[0]["message"]
    assert set(_imported_amounts(workspace)) == {"o-1", "o-3"}


def test_an_unclosed_quote_is_reported_and_the_lines_after_it_are_still_imported(workspace):
    row = _run(workspace, HEADER + 'o-1,cus_1,"5.00,USD\no-2,cus_2,7.00,USD\no-3,cus_3,3.00,USD\n')
    assert _imported_amounts(workspace) == {"o-2": "7.00", "o-3": "3.00"}
    assert [(e["row"], e["column"]) for e in row.errors] == [(2, "Amount")]
    assert "quote" in row.errors[0]["message"]


def test_a_quoted_value_running_over_two_lines_is_one_line(workspace):
    row = _run(
        workspace,
        "Order ID,Customer ID,Amount,Currency,Note\n"
        'o-1,cus_1,5.00,USD,"first line\nsecond, of the note"\no-2,cus_2,7.00,USD,\n',
    )
    assert (row.total_rows, row.accepted_rows, row.error_rows) == (2, 2, 0)
    assert set(_imported_amounts(workspace)) == {"o-1", "o-2"}


def test_a_line_with_extra_values_is_a_problem_and_is_not_imported(workspace):
    row = _run(workspace, HEADER + "o-1,cus_1,1,234.00,USD\no-2,cus_2,7.00,USD\n")
    assert set(_imported_amounts(workspace)) == {"o-2"}
    assert [(e["row"], e["column"]) for e in row.errors] == [(2, "column 5")]
    assert "5 values but the file has 4 columns" in row.errors[0]["message"]


def test_a_line_with_too_few_values_is_a_problem_and_is_not_imported(workspace):
    # Only an optional column is missing: the line could pass for a sale, but it is not what was written.
    row = _run(
        workspace, "Order ID,Customer ID,Amount,Currency,Email\no-1,cus_1,9.00,USD\no-2,cus_2,7.00,USD,b@x.test\n"
    )
    assert set(_imported_amounts(workspace)) == {"o-2"}
    assert [(e["row"], e["column"]) for e in row.errors] == [(2, "Email")]


def test_bytes_that_are_not_utf8_past_the_uploads_check_make_one_problem_line(workspace):
    # The upload refuses a file whose first 64 KB are not UTF-8; past them, the line says so.
    padding = "".join(f"p-{i},cus_{i},1.00,USD\n" for i in range(4000)).encode()
    body = HEADER.encode() + padding + b"o-1,cus_\xff1,1.00,USD\no-2,cus_2,2.00,USD\n"
    assert len(HEADER.encode() + padding) > 64 * 1024
    row, _ = upload_csv(workspace=workspace, kind="sales", uploaded=SimpleUploadedFile("s.csv", body), by=None)
    start_import(csv_import=row, mapping=row.mapping, by=None)
    run_import(csv_import_id=row.pk)
    row.refresh_from_db()
    assert (row.accepted_rows, row.error_rows) == (4001, 1)
    assert (row.errors[0]["row"], row.errors[0]["column"]) == (4002, "Customer ID")
    assert "not UTF-8" in row.errors[0]["message"]


def test_digits_that_are_not_ascii_are_not_an_amount(workspace):
    row = _run(workspace, HEADER + "o-1,cus_1,１２.００,USD\n")
    assert (row.accepted_rows, row.error_rows) == (0, 1)
    assert "is not an amount" in row.errors[0]["message"]


def test_a_column_name_with_a_control_character_is_refused_at_upload(workspace):
    with pytest.raises(ValidationError, match="cannot be stored"):
        _upload(workspace, "Customer\x07ID,Amount,Currency\nc1,1.00,USD\n")


def test_every_line_is_imported_already_in_tandem_or_a_problem(workspace):
    from attribution.inbox import IncomingEvent, accept_events

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
    lines[2] = "o-3,cus_\x003,3.00,USD\n"
    lines[7] = "o-8,cus_8,8.00,USD,extra\n"
    row = _run(workspace, HEADER + "".join(lines))
    assert (row.total_rows, row.accepted_rows, row.duplicate_rows, row.error_rows) == (13, 10, 1, 2)
    assert row.processed_rows == row.accepted_rows + row.duplicate_rows + row.error_rows


class WorkerKilled(Exception):
    """What a SIGKILL looks like from inside the job: it stops between two statements."""


def _kill_after_first_chunk(monkeypatch) -> None:
    def killed(csv_import_id: int, processed_lines: int) -> None:
        raise WorkerKilled

    monkeypatch.setattr(csv_import, "chunk_committed", killed)


def test_an_import_killed_after_a_chunk_resumes_where_it_stopped(workspace, monkeypatch):
    monkeypatch.setattr(csv_import, "CHUNK_ROWS", 3)
    text = HEADER + "".join(f"o-{i},cus_{i},{i}.00,USD\n" for i in range(1, 9)) + "o-9,,9.00,USD\n"
    row = _started(workspace, text)
    with monkeypatch.context() as seam:
        _kill_after_first_chunk(seam)
        with pytest.raises(WorkerKilled):
            run_import(csv_import_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.processed_rows) == ("running", 3)
    run_import(csv_import_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.processed_rows, row.accepted_rows, row.duplicate_rows, row.error_rows) == (
        "done",
        9,
        8,
        0,
        1,
    )
    assert sorted(_imported_amounts(workspace)) == [f"o-{i}" for i in range(1, 9)]


@pytest.fixture
def eager_celery(monkeypatch):
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


def test_the_sweeper_finishes_an_import_whose_worker_died(workspace, monkeypatch, eager_celery):
    monkeypatch.setattr(csv_import, "CHUNK_ROWS", 2)
    row = _started(workspace, HEADER + "".join(f"o-{i},cus_{i},{i}.00,USD\n" for i in range(1, 6)))
    with monkeypatch.context() as seam:
        _kill_after_first_chunk(seam)
        with pytest.raises(WorkerKilled):
            run_import(csv_import_id=row.pk)
    assert csv_import.resume_stalled_imports(stalled_after=timedelta(0)) == 1
    row.refresh_from_db()
    assert (row.status, row.processed_rows, row.accepted_rows) == ("done", 5, 5)


def test_the_sweeper_leaves_an_import_that_is_moving_alone(workspace, eager_celery):
    row = _started(workspace)
    CsvImport.objects.filter(pk=row.pk).update(status="running", progress_at=timezone.now())
    assert csv_import.resume_stalled_imports() == 0
    row.refresh_from_db()
    assert row.status == "running" and not InboundEvent.objects.exists()


def test_an_import_that_stalls_again_and_again_is_failed_with_the_reason(workspace, eager_celery):
    row = _started(workspace)
    CsvImport.objects.filter(pk=row.pk).update(
        status="running",
        processed_rows=2000,
        runs_without_progress=csv_import.MAX_RUNS_WITHOUT_PROGRESS,
        progress_at=timezone.now() - timedelta(hours=1),
    )
    csv_import.resume_stalled_imports()
    row.refresh_from_db()
    assert row.status == "failed" and "line 2000" in row.failure_reason
