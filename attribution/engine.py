"""Who gets the credit for a customer: the attribution rules, as a pure function.

The processor gathers the facts about a lead (or a sale from a customer Tandem has not seen)
in bulk, and `decide` turns them into a `Decision`. Nothing here touches the database, so every
rule is tested directly (tests/attribution/test_engine.py).

The rules, strongest first:
1. A customer who is already a referral keeps its partner (stickiness). How long later sales
   still earn is the reward rule's duration, applied by `rewards.sale_reward`.
2. An approved deal registration still protecting the customer (matched by email or company
   domain): a promise Tandem made to the partner when the manager approved it.
3. A `partner_id` the tenant named: a deliberate assignment by the tenant's own system.
4. A referral code the customer typed.
5. Clicks: the named click (`tclid`) and the same visitor's other clicks on the same program,
   within the program's window, chosen by its model (last click or first click). Bot clicks
   and clicks made while the partner could not earn are not candidates. A named click that is
   not stored yet but may still be in the click buffer is waited for (`waiting_for_click`).
A signal that does not hold (an unknown code, a click outside the window) is noted and the
next one is tried. The winner must be a partner who earns (an active one): a suspended
partner's customer is left unattributed, with the reason, rather than handed to someone else.

Self-referral (the customer's email is the partner's, or the click came from an address the
partner's own portal logins used) does not change who wins: the decision is attributed and
carries `self_referral`, and the processor records the commission as rejected with that reason.
So the manager sees the attempt, the partner is not paid for it, and later sales of the same
customer cannot be picked up by another partner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

LAST_CLICK = "last_click"
FIRST_CLICK = "first_click"


@dataclass(frozen=True)
class PartnerFact:
    pk: int
    program_id: int
    name: str
    email: str
    status: str
    earns: bool
    group_id: int | None = None
    login_ip_hashes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ProgramFact:
    pk: int
    window_days: int
    model: str


@dataclass(frozen=True)
class ClickFact:
    pk: int
    click_id: str
    partner_id: int
    program_id: int
    clicked_at: datetime
    ip_hash: str = ""
    visitor_hash: str = ""
    is_bot: bool = False
    earns_credit: bool = True


@dataclass(frozen=True)
class CodeFact:
    pk: int
    code: str
    partner_id: int
    program_id: int
    active: bool = True


# The facts of one customer are built for each of its events: named tuples, immutable like the frozen
# dataclasses around them and six times quicker to make (a frozen dataclass sets each field by a call).
class ReferralFact(NamedTuple):
    """An existing referral: the customer's own, or a registered deal waiting for the customer."""

    pk: int
    partner_id: int
    program_id: int
    source: str
    customer_email: str = ""
    click_ip_hash: str = ""
    click_pk: int | None = None
    code_pk: int | None = None
    deal_registration_id: int | None = None
    protected_until: datetime | None = None
    # How the referral was won, for the explanation of its later commissions.
    click_id: str = ""
    clicked_at: datetime | None = None
    code: str = ""
    referred_at: datetime | None = None


class CustomerFacts(NamedTuple):
    """What is known about one customer at the moment of a lead (or first sale)."""

    occurred_at: datetime
    customer_email: str = ""
    existing: ReferralFact | None = None
    deal: ReferralFact | None = None
    partner_id: int | None = None
    code_text: str | None = None
    code: CodeFact | None = None
    click_id: str | None = None
    click: ClickFact | None = None
    other_clicks: tuple[ClickFact, ...] = ()
    # The named click is not stored yet but may still be in the click buffer (attribution/click_wait.py).
    click_in_flight: bool = False


@dataclass(frozen=True)
class Decision:
    partner_id: int | None
    program_id: int | None = None
    source: str = ""  # existing | deal_registration | manual | code | link
    click_pk: int | None = None
    code_pk: int | None = None
    referral_id: int | None = None  # the existing referral, or the deal registration's
    reason: str = ""
    reason_code: str = ""
    self_referral: str | None = None
    explanation: dict[str, Any] = field(default_factory=dict)

    @property
    def attributed(self) -> bool:
        return self.partner_id is not None


def decide(
    facts: CustomerFacts, *, partners: Mapping[int, PartnerFact], programs: Mapping[int, ProgramFact]
) -> Decision:
    """The partner credited for this customer, or why nobody is."""
    notes: list[tuple[str, str]] = []

    if facts.existing is not None:
        ref = facts.existing
        return _winner(
            facts,
            partners,
            partner_id=ref.partner_id,
            source="existing",
            referral_id=ref.pk,
            click_ip_hash=ref.click_ip_hash,
            customer_email=facts.customer_email or ref.customer_email,
            explanation=_existing_explanation(ref),
            notes=notes,
            click_pk=ref.click_pk,
            code_pk=ref.code_pk,
        )

    if facts.deal is not None:
        deal = facts.deal
        if deal.protected_until is None or deal.protected_until >= facts.occurred_at:
            return _winner(
                facts,
                partners,
                partner_id=deal.partner_id,
                source="deal_registration",
                referral_id=deal.pk,
                explanation={
                    "deal_registration": deal.deal_registration_id,
                    "protected_until": _iso(deal.protected_until),
                    "why": "An approved deal registration outranks codes and clicks.",
                },
                notes=notes,
            )
        notes.append(
            (
                "deal_expired",
                f"Deal registration {deal.deal_registration_id} stopped protecting this customer on {deal.protected_until:%Y-%m-%d}.",
            )
        )

    if facts.partner_id is not None:
        if facts.partner_id in partners:
            return _winner(
                facts,
                partners,
                partner_id=facts.partner_id,
                source="manual",
                explanation={"why": "Your system named the partner (partner_id)."},
                notes=notes,
            )
        notes.append(("unknown_partner", f"Partner {facts.partner_id} is not a partner of this workspace."))

    if facts.code_text:
        if facts.code is None:
            notes.append(("unknown_code", f"Code “{facts.code_text}” is not one of this workspace's referral codes."))
        elif not facts.code.active:
            notes.append(("archived_code", f"Code “{facts.code.code}” is archived."))
        else:
            return _winner(
                facts,
                partners,
                partner_id=facts.code.partner_id,
                source="code",
                code_pk=facts.code.pk,
                explanation={"code": facts.code.code, "why": "A referral code outranks clicks."},
                notes=notes,
            )

    if facts.click_id:
        if facts.click is None and facts.click_in_flight:
            # Judged now, the customer would be lost to the partner whose click is on its way.
            return Decision(
                partner_id=None,
                reason=f"Waiting for click {facts.click_id} to be stored.",
                reason_code="waiting_for_click",
            )
        chosen = _choose_click(facts, programs, notes)
        if chosen is not None:
            click, program = chosen
            age = facts.occurred_at - click.clicked_at
            return _winner(
                facts,
                partners,
                partner_id=click.partner_id,
                source="link",
                click_pk=click.pk,
                click_ip_hash=click.ip_hash,
                explanation={
                    "click": click.click_id,
                    "clicked_at": click.clicked_at.isoformat(),
                    "days_before": max(age.days, 0),
                    "window_days": program.window_days,
                    "model": program.model,
                    "candidates": 1 + sum(1 for c in facts.other_clicks if c.pk != click.pk),
                    "why": _model_sentence(program),
                },
                notes=notes,
            )

    if notes:
        return Decision(
            partner_id=None,
            reason=" ".join(text for _, text in notes),
            reason_code=notes[0][0],
            explanation={"notes": [text for _, text in notes]},
        )
    return Decision(
        partner_id=None,
        reason="No click, code, deal registration or partner names a partner for this customer.",
        reason_code="no_partner",
    )


def _existing_explanation(ref: ReferralFact) -> dict[str, Any]:
    # Kept small: every later sale of the customer stores a copy with its commission.
    explanation: dict[str, Any] = {"referral": ref.pk, "referred_by": ref.source}
    if ref.click_id:
        explanation.update(click=ref.click_id, clicked_at=_iso(ref.clicked_at))
    if ref.code:
        explanation["code"] = ref.code
    if ref.deal_registration_id:
        explanation["deal_registration"] = ref.deal_registration_id
    return explanation


def _choose_click(
    facts: CustomerFacts, programs: Mapping[int, ProgramFact], notes: list[tuple[str, str]]
) -> tuple[ClickFact, ProgramFact] | None:
    named = facts.click
    if named is None:
        notes.append(("unknown_click", f"Click {facts.click_id} is not one of this workspace's clicks."))
        return None
    program = programs.get(named.program_id)
    if program is None:
        notes.append(("unknown_click", f"Click {named.click_id} belongs to no program of this workspace."))
        return None
    window = timedelta(days=program.window_days)
    candidates: list[ClickFact] = []
    for click in (named, *facts.other_clicks):
        if click.program_id != named.program_id or any(c.pk == click.pk for c in candidates):
            continue
        if click.is_bot:
            # The bot flag comes from the user agent alone, and scripts, link checkers and headless
            # browsers all carry one that looks automated. A click the lead itself names reached the
            # tenant's site with its tclid, which is better evidence than the user agent: credited,
            # and said so. A bot click nobody named never wins.
            if click.pk != named.pk:
                continue
            notes.append(
                (
                    "bot_click",
                    f"Click {click.click_id} came from a user agent that looks automated "
                    "(left out of click counts); credited because the lead names it.",
                )
            )
        if not click.earns_credit:
            if click.pk == named.pk:
                notes.append(
                    ("partner_not_earning", f"Click {click.click_id} was made while its partner could not earn.")
                )
            continue
        # A click a little after the event is clock skew between systems, not a later visit.
        if facts.occurred_at - click.clicked_at > window:
            if click.pk == named.pk:
                notes.append(
                    (
                        "click_outside_window",
                        f"Click {click.click_id} ({click.clicked_at:%Y-%m-%d}) is older than the "
                        f"{program.window_days}-day attribution window.",
                    )
                )
            continue
        candidates.append(click)
    if not candidates:
        return None
    pick = min if program.model == FIRST_CLICK else max
    return pick(candidates, key=lambda c: (c.clicked_at, c.pk)), program


def _winner(
    facts: CustomerFacts,
    partners: Mapping[int, PartnerFact],
    *,
    partner_id: int,
    source: str,
    explanation: dict[str, Any],
    notes: list[tuple[str, str]],
    referral_id: int | None = None,
    click_pk: int | None = None,
    code_pk: int | None = None,
    click_ip_hash: str = "",
    customer_email: str | None = None,
) -> Decision:
    partner = partners.get(partner_id)
    if partner is None:
        return Decision(
            partner_id=None,
            reason=f"Partner {partner_id} is not a partner of this workspace.",
            reason_code="unknown_partner",
            explanation={"notes": [text for _, text in notes]},
        )
    explanation = {"source": source, "partner": {"id": partner.pk, "name": partner.name}, **explanation}
    if notes:
        explanation["notes"] = [text for _, text in notes]
    if not partner.earns:
        return Decision(
            partner_id=None,
            program_id=partner.program_id,
            source=source,
            reason=f"{partner.name} is {partner.status}: only active partners earn.",
            reason_code="partner_not_earning",
            explanation=explanation,
        )
    email = (customer_email if customer_email is not None else facts.customer_email or "").strip().lower()
    self_referral = None
    if email and email == partner.email.strip().lower():
        self_referral = "self-referral: the customer's email is the partner's own"
    elif click_ip_hash and click_ip_hash in partner.login_ip_hashes:
        self_referral = "self-referral: the click came from an address the partner's portal logins used"
    if self_referral:
        explanation["self_referral"] = self_referral
    return Decision(
        partner_id=partner.pk,
        program_id=partner.program_id,
        source=source,
        click_pk=click_pk,
        code_pk=code_pk,
        referral_id=referral_id,
        self_referral=self_referral,
        explanation=explanation,
    )


def _model_sentence(program: ProgramFact) -> str:
    which = "first" if program.model == FIRST_CLICK else "last"
    return f"The {which} click within {program.window_days} days wins."


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- Reward rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class RuleFact:
    pk: int
    program_id: int
    group_id: int | None
    rule_key: str
    version: int
    effective_from: datetime


def select_rule(rules: Sequence[RuleFact], *, program_id: int, group_id: int | None, at: datetime) -> RuleFact | None:
    """The rule version in effect at `at`: the partner group's override if it has one, else the program's.

    Editing a rule adds a version effective from a date, so the version in effect is the one
    with the latest `effective_from` not after the event.
    """
    best: dict[bool, RuleFact] = {}
    for rule in rules:
        if rule.program_id != program_id or rule.effective_from > at:
            continue
        if rule.group_id is not None and rule.group_id != group_id:
            continue
        is_group = rule.group_id is not None
        current = best.get(is_group)
        if current is None or (rule.effective_from, rule.version, rule.pk) > (
            current.effective_from,
            current.version,
            current.pk,
        ):
            best[is_group] = rule
    return best.get(True) or best.get(False)
