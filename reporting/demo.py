"""The demo workspace. Every step goes through the owning app's services and is safe to repeat."""

from __future__ import annotations

from dataclasses import astuple, dataclass, field

from django.db import connection, transaction

from accounts.models import Membership, Role, User, Workspace
from accounts.services import add_domain, create_workspace
from attribution.demo import seed_conversions
from partners.demo import seed_partners
from referrals.demo import seed_referrals
from reporting.payouts.demo import seed_payouts
from reporting.rollups import rebuild_workspace
from reporting.rollups.upstream import tables as upstream_tables

DEMO_SLUG = "demo"
DEMO_PASSWORD = "tandem-demo"
STAFF = [
    ("owner@demo.test", Role.OWNER, "Olivia", "Owner"),
    ("manager@demo.test", Role.MANAGER, "Marco", "Manager"),
    ("finance@demo.test", Role.FINANCE, "Fiona", "Finance"),
]
PARTNER_EMAIL = "partner@demo.test"


@dataclass
class DemoSummary:
    workspace: Workspace
    logins: list[tuple[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        ws = self.workspace
        return (
            f"{ws.memberships.count()} staff, {ws.domains.count()} domains, {ws.programs.count()} programs, "
            f"{ws.partners.count()} partners"
        )


def _demo_user(email: str, first: str, last: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, first_name=first, last_name=last)
    return user


@transaction.atomic
def seed_demo_workspace() -> DemoSummary:
    owner_email = STAFF[0][0]
    owner = _demo_user(owner_email, STAFF[0][2], STAFF[0][3])
    workspace = create_workspace(slug=DEMO_SLUG, name="Demo Co", owner_email=owner_email).workspace
    for domain in ("demo.tandem.test", "shop.demo.tandem.test"):
        add_domain(workspace=workspace, domain=domain, actor=None, actor_label="Demo data", verified=True)
    summary = DemoSummary(workspace=workspace)
    for email, role, first, last in STAFF:
        user = _demo_user(email, first, last)
        Membership.objects.get_or_create(workspace=workspace, user=user, defaults={"role": role})
        summary.logins.append((email, role.label))
    portal_user = _demo_user(PARTNER_EMAIL, "Paula", "Partner")
    seed_partners(workspace=workspace, owner=owner, portal_user=portal_user)
    seed_referrals(workspace)  # links, codes, clicks and deals of the partners above
    summary.logins.append((PARTNER_EMAIL, "Partner (portal)"))
    seed_conversions(workspace)  # leads, sales and refunds through the inbox: the commissions paid out below
    seed_payouts(workspace=workspace)  # it pays out the commissions the steps above created
    # A fresh database has no statistics yet for the rows just written, and the rollup queries then plan
    # as if the tables were empty: seconds per month of history instead of milliseconds.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(astuple(upstream_tables)))
    rebuild_workspace(workspace_id=workspace.pk)  # so the dashboard shows the seeded history at once
    return summary
