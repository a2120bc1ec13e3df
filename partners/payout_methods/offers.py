"""Ways to set up a payout account that apps above partners offer on the payout settings page.

Partners cannot know whether the workspace pays through Stripe (that setting lives in attribution),
so the app that can registers a function here; the page shows each offer that answers a link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from accounts.models import Workspace


@dataclass(frozen=True)
class SetupOffer:
    label: str  # the button, e.g. "Set up Stripe payouts"
    url: str
    note: str  # one line saying what happens


SETUP_OFFERS: list[Callable[[Workspace], SetupOffer | None]] = []


def setup_offers_for(workspace: Workspace) -> list[SetupOffer]:
    return [offer for make in SETUP_OFFERS if (offer := make(workspace)) is not None]
