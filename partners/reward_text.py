"""The program's reward as a sentence, for partners' pages and emails (the apply page, the invitation).

Reward rules are attribution's, and partners may not import attribution (layers run
core <- accounts <- partners <- referrals <- attribution <- reporting). So attribution fills this
small registry when its app is ready (attribution/apps.py). A registry rather than a template
context processor because the invitation email is rendered outside any request, where a context
processor never runs; one function serves the page and the email alike.
"""

from __future__ import annotations

from collections.abc import Callable

from partners.models import PartnerGroup, Program

type Describer = Callable[[Program, PartnerGroup | None], str]

_describer: Describer | None = None


def set_reward_describer(describer: Describer) -> None:
    global _describer
    _describer = describer


def reward_sentence(program: Program, group: PartnerGroup | None = None) -> str:
    """ "20% of every payment for 12 months, paid monthly once you pass 50.00 USD", or "" if unknown."""
    return _describer(program, group) if _describer is not None else ""
