"""Reward rules: the built-in default, versions, and turning a stored rule into `rewards.RuleTerms`.

Kept apart from services.py because the inbox processor needs them too, and services imports
the processor.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import record_audit
from attribution.models import RewardRule
from attribution.rewards import RuleTerms
from partners.models import PartnerGroup, Program

DEFAULT_RULE_NAME = "Default: 20% for 12 months"
# From the beginning of time, so historical sales imported later are covered by the default too.
DEFAULT_EFFECTIVE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
_DEFAULT_KEY_NAMESPACE = uuid.UUID("6f1c7c1e-5a55-4b7e-9b1e-7a9c1d2e3f40")

RULE_FIELDS = (
    "name",
    "lead_amount",
    "sale_type",
    "sale_value",
    "duration",
    "duration_months",
    "cap_per_customer",
    "min_sale_amount",
)


def default_rule_key(program_id: int) -> uuid.UUID:
    """The same key for a program's default rule whoever creates it, so two workers racing create it once."""
    return uuid.uuid5(_DEFAULT_KEY_NAMESPACE, f"default-rule:{program_id}")


def ensure_default_reward_rule(program: Program) -> RewardRule | None:
    """Give a program without any reward rule the built-in default (20% of each sale for 12 months from
    the customer's first sale). Returns the rule created, or None if the program already had rules."""
    ensure_default_reward_rules(workspace_id=program.workspace_id, program_ids=[program.pk])
    return RewardRule.objects.filter(workspace_id=program.workspace_id, rule_key=default_rule_key(program.pk)).first()


def ensure_default_reward_rules(*, workspace_id: int, program_ids: Iterable[int]) -> None:
    ids = set(program_ids)
    if not ids:
        return
    have = set(
        RewardRule.objects.filter(workspace_id=workspace_id, program_id__in=ids)
        .values_list("program_id", flat=True)
        .distinct()
    )
    missing = ids - have
    if not missing:
        return
    RewardRule.objects.bulk_create(
        [
            RewardRule(
                workspace_id=workspace_id,
                program_id=pk,
                group=None,
                rule_key=default_rule_key(pk),
                version=1,
                name=DEFAULT_RULE_NAME,
                lead_amount=Decimal("0"),
                sale_type=RewardRule.SaleType.PERCENT,
                sale_value=Decimal("20"),
                duration=RewardRule.Duration.MONTHS,
                duration_months=12,
                effective_from=DEFAULT_EFFECTIVE_FROM,
            )
            for pk in sorted(missing)
        ],
        ignore_conflicts=True,
    )


def terms_of(rule: Any) -> RuleTerms:
    """A stored rule (a RewardRule or a values() dict) as the pure terms `rewards.sale_reward` takes."""
    get: Callable[[str], Any] = rule.get if isinstance(rule, dict) else lambda name: getattr(rule, name)
    return RuleTerms(
        name=get("name"),
        sale_type=get("sale_type"),
        sale_value=get("sale_value"),
        duration=get("duration"),
        duration_months=get("duration_months"),
        lead_amount=get("lead_amount") or Decimal("0"),
        cap_per_customer=get("cap_per_customer"),
        min_sale_amount=get("min_sale_amount"),
    )


@dataclass(frozen=True)
class RuleInput:
    name: str
    sale_type: str
    sale_value: Decimal
    duration: str
    duration_months: int | None = None
    lead_amount: Decimal = Decimal("0")
    cap_per_customer: Decimal | None = None
    min_sale_amount: Decimal | None = None


def _validate(data: RuleInput) -> None:
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors["name"] = ["Give the rule a name partners will understand, such as “20% for a year”."]
    if data.sale_type not in RewardRule.SaleType.values:
        errors["sale_type"] = ["Choose percent or flat."]
    if data.sale_value < 0:
        errors["sale_value"] = ["Use zero or more."]
    elif data.sale_type == RewardRule.SaleType.PERCENT and data.sale_value > 100:
        errors["sale_value"] = ["A percentage is at most 100."]
    if data.duration not in RewardRule.Duration.values:
        errors["duration"] = ["Choose one_time, months or lifetime."]
    if data.duration == RewardRule.Duration.MONTHS and not data.duration_months:
        errors["duration_months"] = ["Say for how many months the rule pays."]
    if data.lead_amount < 0:
        errors["lead_amount"] = ["Use zero or more."]
    for name in ("cap_per_customer", "min_sale_amount"):
        value = getattr(data, name)
        if value is not None and value < 0:
            errors[name] = ["Use zero or more, or leave it empty."]
    # The columns hold 14 digits: 2 decimals for amounts, 4 for a flat or percent sale value.
    for name, places in (("sale_value", 4), ("lead_amount", 2), ("cap_per_customer", 2), ("min_sale_amount", 2)):
        value = getattr(data, name)
        if name not in errors and value is not None and not _fits(value, places):
            errors[name] = [f"Use at most {14 - places} digits before the point and {places} after it."]
    if errors:
        raise ValidationError(errors)


def _fits(value: Decimal, places: int) -> bool:
    exponent = value.normalize().as_tuple().exponent
    return abs(value) < Decimal(10) ** (14 - places) and (not isinstance(exponent, int) or exponent >= -places)


@transaction.atomic
def add_reward_rule_version(
    *,
    program: Program,
    group: PartnerGroup | None,
    data: RuleInput,
    effective_from: datetime | None,
    by: User | None,
    actor_label: str | None = None,
) -> RewardRule:
    """A new version of the program's (or the group's) rule, effective from a moment.

    The first call for a program (or group) starts the rule; later calls add versions with the
    same key. Commissions keep the version that computed them, so history stays explainable.
    """
    if group is not None and group.workspace_id != program.workspace_id:
        raise ValidationError({"group_id": ["No such group in this workspace."]})
    _validate(data)
    effective_from = effective_from or timezone.now()
    current = (
        RewardRule.objects.for_workspace(program.workspace)
        .select_for_update()
        .filter(program=program, group=group)
        .order_by("-version")
        .first()
    )
    rule = RewardRule.objects.create(
        workspace_id=program.workspace_id,
        program=program,
        group=group,
        rule_key=current.rule_key if current else uuid.uuid4(),
        version=(current.version + 1) if current else 1,
        effective_from=effective_from,
        created_by=by,
        name=data.name.strip(),
        sale_type=data.sale_type,
        sale_value=data.sale_value,
        duration=data.duration,
        duration_months=data.duration_months if data.duration == RewardRule.Duration.MONTHS else None,
        lead_amount=data.lead_amount,
        cap_per_customer=data.cap_per_customer,
        min_sale_amount=data.min_sale_amount,
    )
    record_audit(
        workspace=program.workspace,
        actor=by,
        actor_label=actor_label,
        action="reward_rule.version_added",
        target=rule,
        changes={
            "program": program.name,
            "group": group.name if group else None,
            "version": rule.version,
            "effective_from": effective_from.isoformat(),
            "terms": terms_of(rule).describe(program.currency),
        },
    )
    return rule
