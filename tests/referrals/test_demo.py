"""The referrals part of seed_demo: links, codes, clicks and deals, and safe to run twice."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from referrals.demo import seed_referrals
from referrals.models import Click, DealRegistration, Link, ReferralCode
from tests.accounts.factories import DomainFactory, MembershipFactory
from tests.partners.factories import PartnerFactory, ProgramFactory


# The year of clicks ends today, so which visitors repeat depends on the date: 600 clicks left some
# days (this instant among them) without one repeat visit; 1,200 had repeats at each of 2,190
# instants sampled over 2026-2027. The test still runs at one instant, so it is the same every day.
@time_machine.travel(datetime(2026, 12, 7, 23, 41, tzinfo=UTC))
def test_seeding_twice_makes_everything_once(workspace, django_capture_on_commit_callbacks):
    from django.core import mail

    DomainFactory(workspace=workspace, domain="demo.tandem.test")
    MembershipFactory(workspace=workspace, role="owner")
    program = ProgramFactory(workspace=workspace)
    for name in ("Paula Partner", "Northwind Digital", "Kite Studio"):
        PartnerFactory(workspace=workspace, program=program, name=name)

    with django_capture_on_commit_callbacks(execute=True):
        seed_referrals(workspace, clicks=1200)
    counts = (
        Link.objects.count(),
        ReferralCode.objects.count(),
        Click.objects.count(),
        DealRegistration.objects.count(),
    )
    seed_referrals(workspace, clicks=1200)

    assert counts == (
        Link.objects.count(),
        ReferralCode.objects.count(),
        Click.objects.count(),
        DealRegistration.objects.count(),
    )
    assert counts[0] >= 3 and counts[1] == 3 and counts[2] > 400
    assert Click.objects.filter(is_bot=True).exists() and Click.objects.filter(is_bot=False, is_unique=False).exists()
    assert set(DealRegistration.objects.values_list("status", flat=True)) == {
        "submitted",
        "approved",
        "rejected",
        "expired",
    }
    assert DealRegistration.objects.exclude(conflict_note="").exists()
    assert not mail.outbox
