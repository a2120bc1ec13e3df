from __future__ import annotations

import factory

from partners.models import Partner, PartnerGroup, PartnerUser, Program
from tests.accounts.factories import UserFactory, WorkspaceFactory


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    workspace = factory.SubFactory(WorkspaceFactory)
    name = "Default"
    slug = factory.Sequence(lambda n: f"program-{n}")
    currency = "USD"


class PartnerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerGroup

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class PartnerFactory(factory.django.DjangoModelFactory):
    """A partner whose program lives in the partner's own workspace."""

    class Meta:
        model = Partner

    workspace = factory.SubFactory(WorkspaceFactory)
    program = factory.SubFactory(ProgramFactory, workspace=factory.SelfAttribute("..workspace"))
    name = factory.Faker("company")
    email = factory.Sequence(lambda n: f"partner{n}@example.test")
    status = Partner.Status.ACTIVE


class PartnerUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerUser

    partner = factory.SubFactory(PartnerFactory)
    workspace = factory.SelfAttribute("partner.workspace")
    user = factory.SubFactory(UserFactory)


def with_payout_method(partner: Partner, method_type: str, **fields: str) -> Partner:
    """`partner` with a payout method on file, as if chosen in the portal (no email sent)."""
    from partners.payout_methods.services import set_payout_method

    set_payout_method(partner=partner, method_type=method_type, fields=fields, by=None, notify=False)
    return partner
