"""The referrals app's part of the isolation registry (see tests/isolation.py)."""

from __future__ import annotations

from accounts.models import Workspace
from tests.referrals.factories import DealRegistrationFactory, LinkFactory, ReferralCodeFactory


def _link(workspace: Workspace) -> int:
    return LinkFactory(workspace=workspace).pk


FOREIGN_PARAMS = {
    "link_id": _link,
    "code_id": lambda workspace: ReferralCodeFactory(workspace=workspace).pk,
    "deal_id": lambda workspace: DealRegistrationFactory(workspace=workspace).pk,
}

PUBLIC_ROUTES = {
    "redirect": "public short link; unknown/foreign codes are 404, never a redirect elsewhere",
    "bench_redirect": "the bench's bare 302 baseline; only mounted when TANDEM_BENCH_ENDPOINTS is on, never in production",
    "bench_tail": "the bench's no-op 204; only mounted when TANDEM_BENCH_ENDPOINTS is on, never in production",
}
