"""What happens the moment a partner joins a program, wherever it joined from.

A partner joins when it is added (active or invited, by a manager, the API, an import or the demo),
when its application is approved, and when it accepts its invitation. Other apps give a new partner
what it needs on day one (referrals: its default link and referral code), but partners may not import
them (DESIGN.md, layering). So they register a function here at start-up, and the partner services
call `partner_joined` in their own transaction: an explicit list of calls, run in order, not a signal.
"""

from __future__ import annotations

from collections.abc import Callable

from partners.models import Partner

ON_PARTNER_JOINED: list[Callable[[Partner], object]] = []


def when_partner_joins(action: Callable[[Partner], object]) -> None:
    """Register `action(partner)`; registering the same function twice runs it once."""
    if action not in ON_PARTNER_JOINED:
        ON_PARTNER_JOINED.append(action)


def partner_joined(partner: Partner) -> None:
    """Run what the other apps do for a new partner; each action is safe to run more than once."""
    for action in ON_PARTNER_JOINED:
        action(partner)
