"""The reporting app's part of the isolation registry (see tests/isolation.py).

Its parts live beside it and are loaded on their own: isolation_payouts.py, isolation_metrics.py.
"""

from __future__ import annotations

FOREIGN_PARAMS: dict[str, object] = {}

PUBLIC_ROUTES: dict[str, str] = {
    "verify_statement": "a statement's holder checks it by its random code, no login; it shows that statement only",
}
