"""The metrics part of reporting's isolation registry (see tests/isolation.py): exports and the stats API."""

from __future__ import annotations

from accounts.models import Workspace
from reporting.rollups.models import ExportJob
from tests.partners.factories import PartnerFactory


def _export_job(workspace: Workspace) -> int:
    return ExportJob.objects.create(
        workspace=workspace, kind="clicks", filters={}, status=ExportJob.Status.DONE, file_name="exports/none.csv"
    ).pk


FOREIGN_PARAMS = {
    "export_id": _export_job,
    "api:partner_stats.id": lambda workspace: PartnerFactory(workspace=workspace).pk,
}
