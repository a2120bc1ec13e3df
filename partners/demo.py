"""The partners part of the demo workspace: programs, groups and a dozen partners in every status.

Called by reporting/demo.py. Everything goes through services and is safe to repeat: a partner that
already exists is left as it is (its status is only moved on the run that created it), and no email
is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from accounts.models import User, Workspace
from partners import services
from partners.models import Partner, PartnerGroup, Program
from partners.payout_methods.demo import seed_payout_methods

DEFAULT_TERMS = (
    "Earn 20% of every referred customer's payments for their first 12 months.\n\n"
    "Commissions are held for 30 days to cover refunds, then paid monthly once you reach the minimum payout. "
    "No bidding on our brand name in search ads, no coupon sites unless agreed, no self-referrals."
)
RESELLER_TERMS = "For resellers in Europe: 15% recurring on every customer you bring, paid in euros."

GROUPS = ("Agencies", "Affiliates", "Resellers")

# (name, email, company, country, group, program slug, final status)
PARTNERS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("Paula Partner", "partner@demo.test", "Brightside Media", "US", "Agencies", "default", "active"),
    ("Northwind Digital", "hello@northwind.example", "Northwind Digital LLC", "US", "Agencies", "default", "active"),
    ("Kite & Key Studio", "team@kiteandkey.example", "Kite & Key Studio", "GB", "Agencies", "default", "active"),
    ("Dealfinder Blog", "ana@dealfinder.example", "Dealfinder", "CA", "Affiliates", "default", "active"),
    ("Savvy Saver", "tom@savvysaver.example", "", "AU", "Affiliates", "default", "active"),
    ("TechTalk Weekly", "editor@techtalk.example", "TechTalk Media", "US", "Affiliates", "default", "active"),
    (
        "Cloudbridge Solutions",
        "sales@cloudbridge.example",
        "Cloudbridge GmbH",
        "DE",
        "Resellers",
        "resellers-eu",
        "active",
    ),
    ("Nordic IT Partners", "ops@nordicit.example", "Nordic IT AB", "SE", "Resellers", "resellers-eu", "active"),
    ("Quickclick Deals", "admin@quickclick.example", "Quickclick", "US", "Affiliates", "default", "suspended"),
    ("Harbor Consulting", "jo@harbor.example", "Harbor Consulting", "IE", "Agencies", "default", "invited"),
)

# (name, email, company, country, website, how they'll promote, rejection reason or "" to leave pending)
APPLICANTS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    (
        "Morgan Lee",
        "morgan@growthgarden.example",
        "Growth Garden",
        "NL",
        "https://growthgarden.example",
        "A weekly newsletter for 14,000 SaaS founders; a review post and two sponsored issues per quarter.",
        "",
    ),
    (
        "Sam Rivera",
        "sam@couponista.example",
        "Couponista",
        "ES",
        "https://couponista.example",
        "YouTube reviews of marketing tools (38k subscribers) and a comparison page.",
        "",
    ),
    (
        "Get Rich Links",
        "promo@getrichlinks.example",
        "",
        "",
        "https://getrichlinks.example",
        "Paid search on your brand name and coupon aggregators.",
        "Our terms do not allow bidding on our brand name in search ads.",
    ),
)


@dataclass
class PartnerSeed:
    programs: int
    partners: int
    portal_partner: Partner


def _program(workspace: Workspace, *, by: User, slug: str, name: str, currency: str, terms: str) -> Program:
    program = Program.objects.for_workspace(workspace).filter(slug=slug).first()
    if program is None:
        program = services.create_program(
            workspace=workspace, by=by, name=name, currency=currency, terms=terms, public_applications=True
        )
    return program


def seed_partners(*, workspace: Workspace, owner: User, portal_user: User) -> PartnerSeed:
    """Programs, groups and partners of the demo; `portal_user` becomes the login of Paula Partner."""
    default = services.ensure_default_program(workspace=workspace)
    if not default.terms:
        # Only on the first run, so a manager's later edits survive a re-seed.
        services.update_program(
            program=default,
            by=owner,
            currency="USD",
            terms=DEFAULT_TERMS,
            public_applications=True,
            minimum_payout=Decimal("50.00"),
        )
    programs = {
        "default": default,
        "resellers-eu": _program(
            workspace, by=owner, slug="resellers-eu", name="Resellers EU", currency="EUR", terms=RESELLER_TERMS
        ),
    }
    groups: dict[str, PartnerGroup] = {
        name: services.ensure_group(workspace=workspace, name=name, by=owner) for name in GROUPS
    }

    for name, email, company, country, group, program, status in PARTNERS:
        initial = Partner.Status.INVITED if status == Partner.Status.INVITED else Partner.Status.ACTIVE
        partner, created = services.create_partner(
            workspace=workspace,
            name=name,
            email=email,
            company=company,
            country=country,
            group=groups[group],
            program=programs[program],
            status=initial,
            by=owner,
            notify=False,
        )
        if created and status == Partner.Status.SUSPENDED:
            services.suspend_partner(partner=partner, by=owner)

    for name, email, company, country, website, plan, reason in APPLICANTS:
        partner, created = services.apply_to_program(
            program=default,
            name=name,
            email=email,
            company=company,
            country=country,
            website=website,
            promotion_plan=plan,
            accepted_terms=True,
        )
        if created and reason:
            services.reject_partner(partner=partner, reason=reason, by=owner, notify=False)

    paula = Partner.objects.for_workspace(workspace).get(program=default, email=PARTNERS[0][1])
    seed_payout_methods(workspace=workspace, paula=paula, by=owner)
    services.link_partner_user(partner=paula, user=portal_user)
    return PartnerSeed(
        programs=Program.objects.for_workspace(workspace).count(),
        partners=Partner.objects.for_workspace(workspace).count(),
        portal_partner=paula,
    )
