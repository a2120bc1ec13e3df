"""The reporting app's part of the isolation registry (see tests/isolation.py)."""

from __future__ import annotations

from tests.reporting.isolation_payouts import FOREIGN_PARAMS as PAYOUT_PARAMS

FOREIGN_PARAMS = {**PAYOUT_PARAMS}

PUBLIC_ROUTES: dict[str, str] = {}
