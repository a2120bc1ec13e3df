"""The set's commissions and their ledger entries: rows gathered by the lead and sale steps, each
explanation encoded once per shared part, inserted in one statement, and an `earned` entry each."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from attribution.engine import Decision, RuleFact
from attribution.fraud.scoring import Subject, score_commissions
from attribution.ledger import NewEntry
from attribution.models import Commission, LedgerEntry
from attribution.notify import tell_partners_of_commissions
from attribution.outbound import emit_commissions
from attribution.processing.state import ZERO, ProgramInfo, Ref, SetState
from core.sql import EncodedJson, insert_rows

# The parts of a commission's explanation that many commissions of a set share, the same objects:
# how the customer was won and the reward rule. Each is encoded once per set.
_SHARED_EXPLANATION_PARTS = ("attribution", "reward_rule")
_encode_json = DjangoJSONEncoder(separators=(",", ":")).encode
# Held for review is still owed until a manager rejects it (which posts the reversing entry).
_OWED = (Commission.Status.PENDING, Commission.Status.IN_REVIEW)


def rule_explanation(state: SetState, rule: RuleFact, program: ProgramInfo) -> dict[str, Any]:
    # Shared by every commission of the set under this rule: only ever serialised, never changed.
    key = (rule.pk, program.pk)
    if key not in state.rule_explanations:
        state.rule_explanations[key] = {
            "id": rule.pk,
            "name": state.terms[rule.pk].name,
            "version": rule.version,
            "effective_from": rule.effective_from.isoformat(),
            "terms": state.terms[rule.pk].describe(program.currency),
        }
    return state.rule_explanations[key]


def add_commission(
    state: SetState,
    *,
    kind: str,
    ref: Ref,
    conversion_id: int | None,
    rule: RuleFact,
    program: ProgramInfo,
    amount: Decimal,
    occurred_at: datetime,
    decision: Decision,
    explanation: dict[str, Any],
    memo: str,
    customer_email: str = "",
) -> None:
    """A commission row for insert_commissions, with the ledger entry's memo beside it."""
    hold_until = occurred_at + timedelta(days=program.hold_days)
    explanation["hold_until"] = hold_until.isoformat()
    rejected = decision.self_referral is not None
    state.commission_rows.append(
        {
            "workspace_id": state.ws,
            "program_id": ref.program_id,
            "partner_id": ref.partner_id,
            "referral_id": ref.pk,
            "conversion_id": conversion_id,
            "reward_rule_id": rule.pk,
            "kind": kind,
            "amount": amount,
            "currency": program.currency,
            "status": Commission.Status.REJECTED if rejected else Commission.Status.PENDING,
            "occurred_at": occurred_at,
            "hold_until": hold_until,
            "reversed_amount": ZERO,
            "rejection_reason": decision.self_referral or "",
            "explanation": _encode_explanation(explanation),
            "created_at": state.now,
            "rejected_at": state.now if rejected else None,
        }
    )
    state.commission_memos.append(memo)
    state.commission_explanations.append(explanation)
    partner = state.partners.get(ref.partner_id)
    state.commission_subjects.append(
        Subject(
            program_id=ref.program_id,
            partner_id=ref.partner_id,
            kind=kind,
            occurred_at=occurred_at,
            customer_email=(customer_email or ref.customer_email or "").strip().lower(),
            partner_email=partner.email if partner else "",
            click_pk=ref.click_pk,
        )
    )


# Shared parts encoded so far in this process, by the part's id (see _encode_explanation); bounded.
_ENCODED_PARTS: dict[int, tuple[Any, str]] = {}
_ENCODED_PARTS_MAX = 20_000


def _encode_explanation(explanation: dict[str, Any]) -> EncodedJson:
    """The explanation as JSON, each shared part encoded once (encoding was a tenth of the worker's
    time when every commission encoded its own copy). A part is shared by the commissions of a set,
    and a known customer's decision by its later sales (sales._DECISIONS), so the texts are kept
    per process; parts are never changed once made."""
    shared, own = [], {}
    for key, value in explanation.items():
        if key not in _SHARED_EXPLANATION_PARTS:
            own[key] = value
            continue
        known = _ENCODED_PARTS.get(id(value))
        if known is None or known[0] is not value:
            if len(_ENCODED_PARTS) >= _ENCODED_PARTS_MAX:
                _ENCODED_PARTS.clear()
            # The part itself is kept with its text, so its id cannot be reused by another object.
            known = _ENCODED_PARTS[id(value)] = (value, _encode_json(value))
        shared.append(f'"{key}":{known[1]}')
    if own:
        shared.append(_encode_json(own)[1:-1])  # the rest in one call, without its braces
    return EncodedJson("{" + ",".join(shared) + "}")


def _key(row: dict[str, Any]) -> tuple[str, int]:
    return (row["kind"], row["conversion_id"] if row["kind"] == Commission.Kind.SALE else row["referral_id"])


def insert_commissions(state: SetState) -> None:
    """Insert the commissions gathered so far, and queue an `earned` ledger entry for each that is owed."""
    if state.commission_rows:
        _score(state)
        returned = insert_rows(
            Commission, state.commission_rows, returning=("id", "kind", "conversion_id", "referral_id")
        )
        ids = {
            (kind, conversion_id if kind == Commission.Kind.SALE else referral_id): pk
            for pk, kind, conversion_id, referral_id in returned
        }
        for row, memo in zip(state.commission_rows, state.commission_memos, strict=True):
            if row["status"] not in _OWED:
                continue  # born rejected (self-referral): nothing was ever owed
            key = (row["kind"], row["conversion_id"] if row["kind"] == Commission.Kind.SALE else row["referral_id"])
            state.ledger.append(
                NewEntry(
                    partner_id=row["partner_id"],
                    kind=LedgerEntry.Kind.COMMISSION_EARNED,
                    amount=row["amount"],
                    currency=row["currency"],
                    reference=f"commission:{ids[key]}",
                    memo=memo,
                )
            )
        state.result.commissions = len(returned)
        emit_commissions(state.ws, "commission.created", [row[0] for row in returned])
        tell_partners_of_commissions(
            workspace_id=state.ws,
            commissions=[
                {
                    "id": ids[_key(row)],
                    "partner_id": row["partner_id"],
                    "amount": row["amount"],
                    "currency": row["currency"],
                    "hold_until": row["hold_until"],
                    "explanation": explanation,
                }
                for row, explanation in zip(state.commission_rows, state.commission_explanations, strict=True)
                if row["status"] == Commission.Status.PENDING
            ],
        )


def _score(state: SetState) -> None:
    """Every commission's fraud risk, in bulk; those at the program's threshold (or of a flagged
    partner) are held for review instead of pending."""
    risks = score_commissions(state.ws, state.commission_subjects, now=state.now)
    encoded: dict[int, EncodedJson] = {}  # a Risk shared by several commissions is encoded once
    for row, risk in zip(state.commission_rows, risks, strict=True):
        row["risk_score"] = risk.score
        if id(risk) not in encoded:
            encoded[id(risk)] = EncodedJson(_encode_json(risk.reasons))
        row["risk_reasons"] = encoded[id(risk)]
        if risk.held and row["status"] == Commission.Status.PENDING:
            row["status"] = Commission.Status.IN_REVIEW
