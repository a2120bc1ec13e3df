"""Factories of the referrals app; every sub-factory shares the parent's workspace."""

from __future__ import annotations

import factory
from django.utils import timezone

from referrals.models import Click, DealRegistration, Link, Referral, ReferralCode
from referrals.validation import generate_code
from tests.accounts.factories import WorkspaceFactory
from tests.partners.factories import PartnerFactory


class LinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Link

    workspace = factory.SubFactory(WorkspaceFactory)
    partner = factory.SubFactory(PartnerFactory, workspace=factory.SelfAttribute("..workspace"))
    program = factory.SelfAttribute("partner.program")
    # Random, not sequential: tests in parallel processes share one Redis.
    code = factory.LazyFunction(lambda: generate_code(10))
    destination_url = "https://shop.example.com/pricing"


class ReferralCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferralCode

    workspace = factory.SubFactory(WorkspaceFactory)
    partner = factory.SubFactory(PartnerFactory, workspace=factory.SelfAttribute("..workspace"))
    program = factory.SelfAttribute("partner.program")
    code = factory.LazyFunction(lambda: "CODE-" + generate_code(6).upper())


class ClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Click

    link = factory.SubFactory(LinkFactory)
    workspace = factory.SelfAttribute("link.workspace")
    partner = factory.SelfAttribute("link.partner")
    click_id = factory.LazyFunction(lambda: generate_code(20))
    clicked_at = factory.LazyFunction(timezone.now)
    ip_hash = factory.Sequence(lambda n: f"{n:064x}")
    visitor_hash = factory.Sequence(lambda n: f"{n:032x}")
    user_agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"


class DealRegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealRegistration

    workspace = factory.SubFactory(WorkspaceFactory)
    partner = factory.SubFactory(PartnerFactory, workspace=factory.SelfAttribute("..workspace"))
    program = factory.SelfAttribute("partner.program")
    company = factory.Sequence(lambda n: f"Customer {n} Ltd")
    contact_name = "Casey Contact"
    contact_email = factory.Sequence(lambda n: f"casey@customer{n}.example")
    company_domain = factory.LazyAttribute(lambda o: o.contact_email.rpartition("@")[2])
    estimated_value = "12000.00"
    currency = "USD"


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    workspace = factory.SubFactory(WorkspaceFactory)
    partner = factory.SubFactory(PartnerFactory, workspace=factory.SelfAttribute("..workspace"))
    program = factory.SelfAttribute("partner.program")
    customer_external_id = factory.Sequence(lambda n: f"cus_{n}")
    customer_email = factory.Sequence(lambda n: f"buyer{n}@example.org")
    source = Referral.Source.MANUAL
