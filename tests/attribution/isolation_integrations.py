"""The integrations' part of the isolation registry, for the lead to merge into tests/attribution/isolation.py."""

from __future__ import annotations

import uuid

from accounts.models import Workspace
from attribution.integrations.models import CsvImport


def _csv_import_id(workspace: Workspace) -> int:
    # The row alone is enough: every import URL looks it up (and 404s) before opening its file.
    return CsvImport.objects.create(
        workspace=workspace,
        kind=CsvImport.Kind.SALES,
        file=f"imports/{workspace.pk}/foreign.csv",
        original_name="foreign.csv",
        file_sha256=uuid.uuid4().hex * 2,
        headers=["customer_id", "amount", "currency"],
    ).pk


FOREIGN_PARAMS = {
    "import_id": _csv_import_id,
}

PUBLIC_ROUTES = {
    "stripe_webhook": "Stripe posts here; the workspace's signing secret (Stripe-Signature) authenticates it, "
    "an unknown workspace is a 404 and nothing unsigned is written",
    "hubspot_webhook": "HubSpot posts here; the workspace's app secret (X-HubSpot-Signature-v3) authenticates it, "
    "an unknown workspace is a 404 and nothing unsigned is written",
}
