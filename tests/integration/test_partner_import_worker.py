"""A CSV import of partners run by a real Celery worker: the rows land one by one (the progress the page
polls), a bad row is kept with its reason, and importing the same file again adds nobody twice."""

from __future__ import annotations

import uuid

import pytest

from accounts.models import Workspace
from partners.imports.models import PartnerImport
from partners.imports.services import create_import
from partners.imports.tasks import import_partners
from partners.models import Partner
from partners.services import ensure_default_program
from tests.integration.test_csv_import_worker import _kill, _start_worker, _wait_for

pytestmark = pytest.mark.integration

ROWS = 60


def _status(job: PartnerImport) -> str:
    return PartnerImport.objects.filter(workspace=job.workspace, uuid=job.uuid).values_list("status", flat=True).get()


def test_a_worker_imports_every_row_and_a_second_run_adds_nobody(transactional_db, settings, tmp_path):
    workspace = Workspace.objects.create(slug=f"imp-{uuid.uuid4().hex[:6]}", name="Import test")
    program = ensure_default_program(workspace=workspace)
    text = "email,name,country\n" + "".join(f"p{i}@example.test,Partner {i},US\n" for i in range(ROWS))
    text += "broken@example.test,Broken,Atlantis\n"
    queue = f"integration-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    jobs = [
        create_import(workspace=workspace, program=program, data=text.encode(), filename="p.csv", by=None)
        for _ in range(2)
    ]
    # Queued by hand rather than by start_import, so the tasks go to this test's worker only.
    PartnerImport.objects.filter(workspace=workspace).update(status="queued")

    worker = _start_worker(queue, tmp_path, log)
    try:
        for job in jobs:
            import_partners.apply_async(
                kwargs={"workspace_id": workspace.pk, "import_uuid": str(job.uuid)}, queue=queue
            )
            assert _wait_for(lambda job=job: _status(job) == "done", 120), log.read_text()[-5000:]
    finally:
        _kill(worker)

    first, second = (PartnerImport.objects.get(workspace=workspace, uuid=job.uuid) for job in jobs)
    assert (first.created_count, first.existing_count, first.failed_count) == (ROWS, 0, 1)
    assert (second.created_count, second.existing_count, second.failed_count) == (0, ROWS, 1)
    assert first.results[-1]["message"].startswith("“Atlantis” is not a country we know")
    assert Partner.objects.for_workspace(workspace).count() == ROWS
