"""Factories of the attribution app; every sub-factory shares the parent's workspace."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import factory
from django.utils import timezone

from attribution.models import Commission, Conversion, ExchangeRate, InboundEvent, RewardRule
from tests.accounts.factories import WorkspaceFactory
from tests.partners.factories import ProgramFactory
from tests.referrals.factories import ReferralFactory


class RewardRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RewardRule

    workspace = factory.SubFactory(WorkspaceFactory)
    program = factory.SubFactory(ProgramFactory, workspace=factory.SelfAttribute("..workspace"))
    rule_key = factory.LazyFunction(uuid.uuid4)
    version = 1
    name = "10% lifetime"
    sale_type = RewardRule.SaleType.PERCENT
    sale_value = Decimal("10")
    duration = RewardRule.Duration.LIFETIME
    effective_from = datetime(2000, 1, 1, tzinfo=UTC)


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    workspace = factory.SubFactory(WorkspaceFactory)
    date = date(2026, 1, 15)
    from_currency = "EUR"
    to_currency = "USD"
    rate = Decimal("1.1")


class InboundEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundEvent

    workspace = factory.SubFactory(WorkspaceFactory)
    event_id = factory.Sequence(lambda n: f"evt_{n}")
    kind = InboundEvent.Kind.SALE
    source = InboundEvent.Source.API
    payload = factory.LazyAttribute(
        lambda o: {
            "customer_external_id": "cus_1",
            "amount": "10.00",
            "currency": "USD",
            "occurred_at": timezone.now().isoformat(),
        }
    )
    status = InboundEvent.Status.UNATTRIBUTED
    reason = "The customer is not a referral."
    reason_code = "not_a_referral"
    received_at = factory.LazyFunction(timezone.now)


class ConversionFactory(factory.django.DjangoModelFactory):
    """A sale of a referral, all in the referral's workspace."""

    class Meta:
        model = Conversion

    workspace = factory.SubFactory(WorkspaceFactory)
    referral = factory.SubFactory(ReferralFactory, workspace=factory.SelfAttribute("..workspace"))
    partner = factory.SelfAttribute("referral.partner")
    program = factory.SelfAttribute("referral.program")
    kind = Conversion.Kind.SALE
    event_id = factory.Sequence(lambda n: f"sale_{n}")
    amount = Decimal("100.00")
    currency = "USD"
    occurred_at = factory.LazyFunction(timezone.now)


class CommissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commission

    workspace = factory.SubFactory(WorkspaceFactory)
    conversion = factory.SubFactory(ConversionFactory, workspace=factory.SelfAttribute("..workspace"))
    referral = factory.SelfAttribute("conversion.referral")
    partner = factory.SelfAttribute("conversion.partner")
    program = factory.SelfAttribute("conversion.program")
    reward_rule = factory.SubFactory(
        RewardRuleFactory, workspace=factory.SelfAttribute("..workspace"), program=factory.SelfAttribute("..program")
    )
    kind = Commission.Kind.SALE
    amount = Decimal("20.00")
    currency = "USD"
    status = Commission.Status.PENDING
    occurred_at = factory.LazyFunction(timezone.now)
    hold_until = factory.LazyFunction(timezone.now)
    explanation = factory.LazyFunction(lambda: {"attribution": {"source": "link"}, "calculation": "test"})
