"""Each program's fraud settings: its review threshold and every signal's weight and threshold.

A program without a FraudSettings row uses the defaults; the row is made the first time a manager
opens the settings (`fraud_settings_for`), and keeps only what differs from the defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import User, Workspace
from accounts.services import record_audit
from attribution.fraud.signals import SIGNALS
from attribution.models import FraudSettings
from partners.models import Program

DEFAULT_REVIEW_THRESHOLD = 70


@dataclass(frozen=True)
class Rules:
    """One program's settings, defaults filled in."""

    review_threshold: int = DEFAULT_REVIEW_THRESHOLD
    weights: dict[str, int] = field(default_factory=lambda: {k: s.weight for k, s in SIGNALS.items()})
    thresholds: dict[str, float] = field(
        default_factory=lambda: {k: s.threshold for k, s in SIGNALS.items() if s.threshold is not None}
    )

    @classmethod
    def of(cls, row: FraudSettings | None) -> Rules:
        if row is None:
            return cls()
        rules = cls(review_threshold=row.review_threshold)
        for key, values in (row.signals or {}).items():
            if key not in SIGNALS or not isinstance(values, dict):
                continue
            if isinstance(values.get("weight"), int):
                rules.weights[key] = values["weight"]
            if key in rules.thresholds and isinstance(values.get("threshold"), int | float):
                rules.thresholds[key] = float(values["threshold"])
        return rules


def rules_for_programs(workspace_id: int, program_ids: Iterable[int]) -> dict[int, Rules]:
    """Every named program's rules, in one query (the defaults for programs never configured)."""
    ids = set(program_ids)
    rows = {r.program_id: r for r in FraudSettings.objects.filter(workspace_id=workspace_id, program_id__in=ids)}
    return {pk: Rules.of(rows.get(pk)) for pk in ids}


def fraud_settings_for(program: Program) -> FraudSettings:
    row, _ = FraudSettings.objects.get_or_create(workspace_id=program.workspace_id, program_id=program.pk)
    return row


def update_fraud_settings(
    *,
    workspace: Workspace,
    program: Program,
    review_threshold: int,
    weights: dict[str, int],
    thresholds: dict[str, float],
    by: User | None,
) -> FraudSettings:
    """Save a program's fraud settings (only what differs from the defaults is kept), audited."""
    row = fraud_settings_for(program)
    signals: dict[str, dict[str, float]] = {}
    for key, signal in SIGNALS.items():
        changed: dict[str, float] = {}
        if key in weights and weights[key] != signal.weight:
            changed["weight"] = weights[key]
        if signal.threshold is not None and key in thresholds and thresholds[key] != signal.threshold:
            changed["threshold"] = thresholds[key]
        if changed:
            signals[key] = changed
    before = {"review_threshold": row.review_threshold, "signals": row.signals}
    row.review_threshold, row.signals, row.updated_at = review_threshold, signals, timezone.now()
    row.save(update_fields=["review_threshold", "signals", "updated_at"])
    record_audit(
        workspace=workspace,
        actor=by,
        action="fraud_settings.updated",
        target=program,
        changes={"before": before, "after": {"review_threshold": review_threshold, "signals": signals}},
    )
    return row
