from __future__ import annotations

from partners.models import Partner, PartnerUser, Program
from reporting.demo import seed_demo_workspace


def test_the_demo_has_partners_in_every_status(db):
    workspace = seed_demo_workspace().workspace

    statuses = set(Partner.objects.for_workspace(workspace).values_list("status", flat=True))
    assert statuses == set(Partner.Status.values)
    assert Program.objects.for_workspace(workspace).filter(slug="default", currency="USD").exists()


def test_the_demo_partner_login_opens_paula_partners_portal(db):
    workspace = seed_demo_workspace().workspace

    login = PartnerUser.objects.for_workspace(workspace).get(user__email="partner@demo.test")
    assert (login.partner.name, login.partner.company) == ("Paula Partner", "Brightside Media")


def test_seeding_the_demo_twice_changes_nothing(db):
    workspace = seed_demo_workspace().workspace
    before = list(Partner.objects.for_workspace(workspace).values_list("email", "status").order_by("email"))

    seed_demo_workspace()

    assert list(Partner.objects.for_workspace(workspace).values_list("email", "status").order_by("email")) == before
    assert PartnerUser.objects.for_workspace(workspace).count() == 1
