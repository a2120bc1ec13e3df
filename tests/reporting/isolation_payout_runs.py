"""The payout runs part of reporting's isolation registry (see tests/isolation.py)."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import Workspace
from reporting.payouts.runs.models import PayoutRun


def foreign_run(workspace: Workspace) -> int:
    return PayoutRun.objects.create(workspace=workspace, created_at=timezone.now()).id


FOREIGN_PARAMS = {"payout_run_id": foreign_run}
