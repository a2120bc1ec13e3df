"""CSV import of leads and sales: upload, column mapping, and the streaming job.

Rows become inbound events with ids `csv:<file sha256>:<row>` (or the file's own event id column),
handed to the inbox 1,000 at a time. Each chunk commits together with the job's progress, so a
worker that dies mid-file resumes after the last committed chunk, and a chunk replayed anyway is
only duplicates. Reading the file and judging its rows is csv_rows.py's.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import IO, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User, Workspace
from attribution.inbox import IncomingEvent, accept_events
from attribution.integrations.csv_rows import (
    RowError,
    clean_mapping,
    count_lines,
    guess_mapping,
    iter_lines,
    judge,
    read_header,
)
from attribution.integrations.models import CsvImport

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
CHUNK_ROWS = 1000
STORED_ERRORS = 50
SOURCE = "csv"
# An import whose progress has not moved for this long lost its worker (or its task): it is sent again.
STALLED_AFTER = timedelta(seconds=getattr(settings, "CSV_IMPORT_STALLED_AFTER_SECONDS", 120))
MAX_RUNS_WITHOUT_PROGRESS = 5


# --- Services -------------------------------------------------------------------------------------------


def _sha256(uploaded: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return digest.hexdigest()


def upload_csv(*, workspace: Workspace, kind: str, uploaded: UploadedFile, by: User | None) -> tuple[CsvImport, bool]:
    """Store an uploaded file for import, with a guessed mapping. The same file again is the
    import it already is (second value False), so re-uploading never imports a row twice."""
    if kind not in CsvImport.Kind.values:
        raise ValidationError({"kind": ["Choose leads or sales."]})
    if uploaded.size and uploaded.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": [f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it."]})
    sha = _sha256(uploaded)
    existing = CsvImport.objects.for_workspace(workspace).filter(file_sha256=sha).first()
    if existing is not None:
        return existing, False
    delimiter, headers = read_header(cast(IO[bytes], uploaded.file))  # set: _sha256 has just read it
    uploaded.seek(0)
    row = CsvImport(
        workspace=workspace,
        kind=kind,
        original_name=(uploaded.name or "import.csv")[-255:],
        file_sha256=sha,
        size_bytes=uploaded.size or 0,
        delimiter=delimiter,
        headers=headers,
        mapping=guess_mapping(kind, headers),
        created_by=by,
    )
    row.file.save(f"{sha}.csv", uploaded, save=False)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # The same file uploaded twice at once: the other request's import is this one.
        row.file.delete(save=False)
        return CsvImport.objects.for_workspace(workspace).get(file_sha256=sha), False
    return row, True


@transaction.atomic
def start_import(*, csv_import: CsvImport, mapping: dict[str, str], by: User | None) -> CsvImport:
    """Fix the mapping and queue the job. Starting a started import changes nothing."""
    locked = CsvImport.objects.for_workspace(csv_import.workspace).select_for_update().get(pk=csv_import.pk)
    if locked.status != CsvImport.Status.UPLOADED:
        return locked
    locked.mapping = clean_mapping(locked.kind, locked.headers, mapping)
    locked.status = CsvImport.Status.QUEUED
    locked.progress_at = timezone.now()
    locked.save(update_fields=["mapping", "status", "progress_at"])
    # robust: with the broker down the page still answers, and the sweeper sends the job later.
    transaction.on_commit(lambda: _send(locked.pk), robust=True)
    return locked


def _send(csv_import_id: int, queue: str | None = None) -> None:
    from attribution.integrations.tasks import run_csv_import  # the task module imports this one

    run_csv_import.apply_async(args=[csv_import_id], **({"queue": queue} if queue else {}))


def fail_import(*, csv_import_id: int, reason: str) -> None:
    """Give up on an import the job cannot finish; the lines already imported stay imported."""
    CsvImport.objects.across_workspaces("the job names its import by id").filter(pk=csv_import_id).exclude(
        status=CsvImport.Status.DONE
    ).update(status=CsvImport.Status.FAILED, failure_reason=reason, finished_at=timezone.now())


def retry_import(*, csv_import: CsvImport) -> None:
    """Start a failed import again after its last committed chunk (a person asked to)."""
    with transaction.atomic():
        updated = (
            CsvImport.objects.for_workspace(csv_import.workspace)
            .filter(pk=csv_import.pk, status=CsvImport.Status.FAILED)
            .update(
                status=CsvImport.Status.QUEUED,
                failure_reason="",
                finished_at=None,
                runs_without_progress=0,
                progress_at=timezone.now(),
            )
        )
        if updated:
            transaction.on_commit(lambda: _send(csv_import.pk), robust=True)


def chunk_committed(csv_import_id: int, processed_lines: int) -> None:
    """Called after each chunk commits, and does nothing: the seam where tests stop a job the way
    a killed worker would, between two chunks."""


def _claim(csv_import_id: int) -> CsvImport | None:
    """Mark a run as started (one more attempt without progress), counting the lines on the first."""
    with transaction.atomic():
        row = (
            CsvImport.objects.across_workspaces("the job names its import by id")
            .select_for_update()
            .filter(pk=csv_import_id)
            .first()
        )
        if row is None or row.is_finished or row.status == CsvImport.Status.UPLOADED:
            return None
        row.runs_without_progress += 1
        row.progress_at = timezone.now()
        row.started_at = row.started_at or row.progress_at
        row.save(update_fields=["runs_without_progress", "progress_at", "started_at"])
    if row.total_rows is None:
        total = count_lines(row)
        CsvImport.objects.for_workspace(row.workspace).filter(pk=row.pk).update(
            total_rows=total, status=CsvImport.Status.RUNNING, progress_at=timezone.now()
        )
        row.refresh_from_db()
    elif row.status == CsvImport.Status.QUEUED:
        CsvImport.objects.for_workspace(row.workspace).filter(pk=row.pk).update(status=CsvImport.Status.RUNNING)
    return row


def _commit_chunk(
    csv_import: CsvImport, *, offset: int, chunk: list[tuple[IncomingEvent | None, list[RowError]]]
) -> bool:
    """Hand a chunk's events to the inbox and advance the progress, in one transaction, under the
    import's lock. False when another run has moved the progress meanwhile: it owns the rest."""
    with transaction.atomic():
        locked = CsvImport.objects.for_workspace(csv_import.workspace).select_for_update().get(pk=csv_import.pk)
        if locked.processed_rows != offset or locked.is_finished:
            return False
        events = [event for event, _ in chunk if event is not None]
        receipts = accept_events(workspace=locked.workspace, events=events, source=SOURCE) if events else []
        duplicates = sum(1 for r in receipts if r.status == "duplicate")
        problems = [e for _, errors in chunk for e in errors]
        room = max(0, STORED_ERRORS - len(locked.errors))
        locked.errors = [*locked.errors, *(e.as_dict() for e in problems[:room])]
        locked.processed_rows += len(chunk)
        locked.accepted_rows += len(receipts) - duplicates
        locked.duplicate_rows += duplicates
        locked.error_rows += sum(1 for _, errors in chunk if errors)
        locked.runs_without_progress = 0
        locked.progress_at = timezone.now()
        locked.save(
            update_fields=[
                "errors",
                "processed_rows",
                "accepted_rows",
                "duplicate_rows",
                "error_rows",
                "runs_without_progress",
                "progress_at",
            ]
        )
    return True


def run_import(*, csv_import_id: int) -> None:
    """The job: read the file, hand its events to the inbox a chunk at a time, record progress.

    Safe to run twice or concurrently, and after a run that died anywhere: each chunk commits
    with the progress it advances, a run skips the lines already committed, and a run that finds
    the progress moved by another stops. Every line ends up counted once: imported, already in
    Tandem, or a problem.
    """
    csv_import = _claim(csv_import_id)
    if csv_import is None:
        return
    now = timezone.now()
    offset = csv_import.processed_rows
    chunk: list[tuple[IncomingEvent | None, list[RowError]]] = []
    for position, line in enumerate(iter_lines(csv_import)):
        if position < csv_import.processed_rows:
            continue  # committed by an earlier run of this job
        chunk.append(judge(csv_import, line, now=now))
        if len(chunk) >= CHUNK_ROWS:
            if not _commit_chunk(csv_import, offset=offset, chunk=chunk):
                return
            offset += len(chunk)
            chunk = []
            chunk_committed(csv_import_id, offset)
    if chunk:
        if not _commit_chunk(csv_import, offset=offset, chunk=chunk):
            return
        offset += len(chunk)
    CsvImport.objects.across_workspaces("the job names its import by id").filter(
        pk=csv_import_id, processed_rows=offset, status=CsvImport.Status.RUNNING
    ).update(status=CsvImport.Status.DONE, finished_at=timezone.now())


def resume_stalled_imports(*, stalled_after: timedelta | None = None, queue: str | None = None) -> int:
    """Send again every import that stopped moving: its worker was killed, or its task was lost
    with the broker. One that stalls MAX_RUNS_WITHOUT_PROGRESS times in a row is failed with the
    reason, so no import stays "Importing" for ever. Returns how many were sent."""
    now = timezone.now()
    imports = CsvImport.objects.across_workspaces("beat: stalled imports of every workspace")
    stalled = imports.filter(
        status__in=[CsvImport.Status.QUEUED, CsvImport.Status.RUNNING],
        progress_at__lt=now - (STALLED_AFTER if stalled_after is None else stalled_after),
    )
    sent = 0
    for pk, runs, processed in stalled.values_list("pk", "runs_without_progress", "processed_rows"):
        if runs >= MAX_RUNS_WITHOUT_PROGRESS:
            fail_import(
                csv_import_id=pk,
                reason=f"The import stopped {runs} times without getting past line "
                f"{processed} of the file's data lines; the lines before it are imported.",
            )
            continue
        # Touched first, so the next sweep waits a full period for this run to show progress.
        if imports.filter(pk=pk, progress_at__lt=now).update(progress_at=now):
            _send(pk, queue)
            sent += 1
    return sent
