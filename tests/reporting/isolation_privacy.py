"""The privacy part of reporting's isolation registry (see tests/isolation.py): erasure and exports.

`partner_id` (the partner export page and API) is registered by partners' isolation.py."""

from __future__ import annotations

from accounts.models import Workspace
from tests.referrals.factories import ReferralFactory


def _customer(workspace: Workspace) -> str:
    return ReferralFactory(workspace=workspace, customer_external_id="foreign-customer-1").customer_external_id


FOREIGN_PARAMS = {"customer_external_id": _customer}
REQUEST_DATA = {
    "privacy_customer_export": {"customer": "foreign-customer-1"},
    "privacy_retention": {"months": "12"},
}
