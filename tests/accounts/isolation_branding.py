"""The white label's part of the accounts isolation registry (see tests/isolation.py)."""

from __future__ import annotations

PUBLIC_ROUTES = {
    "workspace_logo": "the business's logo, public on purpose: its apply page and emails show it to anyone",
}
