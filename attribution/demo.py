"""The attribution part of the demo workspace: leads, sales, renewals and refunds over the last year.

Called by reporting/demo.py after the referrals are seeded (it uses their clicks and codes) and
before the payouts (which pay the commissions approved here). Everything goes through the inbox
(`accept_events`) and the processor, exactly as the API would, so the demo shows real attribution:
commissions pending, approved, rejected (a self-referral and a manager's decision) and reversed,
events unattributed with their reasons. Event ids are fixed, so a second run adds nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from accounts.models import Workspace
from attribution import services
from attribution.inbox import IncomingEvent, accept_events
from attribution.models import Commission, InboundEvent
from partners.models import Partner
from referrals.models import Click, ReferralCode

PLANS = (Decimal("29.00"), Decimal("49.00"), Decimal("99.00"), Decimal("249.00"))
LINK_CUSTOMERS = 150
CODE_CUSTOMERS = 30
PORTAL_PARTNER = "partner@demo.test"


def _midnight_today() -> datetime:
    # A fixed "now" for the whole day, so a re-run the same day generates exactly the same events.
    today = timezone.now().astimezone(UTC).date()
    return datetime.combine(today, datetime.min.time(), tzinfo=UTC)


def seed_conversions(workspace: Workspace) -> str:
    partners = {p.pk: p for p in Partner.objects.for_workspace(workspace).select_related("program")}
    if not partners:
        return "attribution: no partners, nothing seeded"
    rng = random.Random(4242)
    now = _midnight_today()
    events: list[IncomingEvent] = []
    customers: list[tuple[str, datetime, Partner]] = []

    clicks = list(
        Click.objects.for_workspace(workspace)
        .filter(is_bot=False, clicked_at__lt=now - timedelta(days=1))
        .select_related("partner")
        .order_by("clicked_at", "click_id")
    )
    paula = [c for c in clicks if c.partner.email == PORTAL_PARTNER]
    chosen = rng.sample(paula, min(10, len(paula)))
    rest = [c for c in clicks if c not in chosen]
    chosen += rng.sample(rest, min(LINK_CUSTOMERS - len(chosen), len(rest)))
    for n, click in enumerate(sorted(chosen, key=lambda c: (c.clicked_at, c.click_id))):
        customer = f"demo-cus-{n:03d}"
        at = click.clicked_at + timedelta(minutes=rng.randrange(5, 600))
        events.append(
            IncomingEvent(
                kind="lead",
                event_id=f"demo-lead-{n:03d}",
                customer_external_id=customer,
                click_id=click.click_id,
                occurred_at=at,
                customer_email=f"buyer{n}@customer{n}.example",
            )
        )
        customers.append((customer, at, click.partner))

    codes = list(ReferralCode.objects.for_workspace(workspace).select_related("partner").order_by("code"))
    for n in range(min(CODE_CUSTOMERS, len(codes) * 2)):
        code = codes[n % len(codes)]
        customer = f"demo-code-{n:03d}"
        at = now - timedelta(days=rng.randrange(3, 360), minutes=rng.randrange(1440))
        events.append(
            IncomingEvent(
                kind="lead",
                event_id=f"demo-code-lead-{n:03d}",
                customer_external_id=customer,
                code=code.code.lower(),
                occurred_at=at,
            )
        )
        customers.append((customer, at, code.partner))

    # A partner buying through their own link: recorded, flagged, never paid.
    cheat = next(
        (p for p in partners.values() if p.status == Partner.Status.ACTIVE and p.email != PORTAL_PARTNER), None
    )
    cheat_click = next((c for c in clicks if cheat and c.partner_id == cheat.pk), None)
    if cheat and cheat_click:
        events.append(
            IncomingEvent(
                kind="lead",
                event_id="demo-lead-self",
                customer_external_id="demo-cus-self",
                click_id=cheat_click.click_id,
                customer_email=cheat.email,
                occurred_at=cheat_click.clicked_at + timedelta(minutes=3),
            )
        )
        customers.append(("demo-cus-self", cheat_click.clicked_at + timedelta(minutes=3), cheat))

    sales: list[IncomingEvent] = []
    for customer, lead_at, partner in customers:
        if rng.random() < 0.25:
            continue  # signed up, never bought (yet)
        plan = rng.choice(PLANS)
        first = lead_at + timedelta(days=rng.randrange(0, 6), hours=rng.randrange(1, 12))
        for month in range(12):  # monthly renewals, as long as the customer has been around
            at = first + relativedelta(months=month)
            if at >= now:
                break
            sales.append(
                IncomingEvent(
                    kind="sale",
                    event_id=f"demo-sale-{customer}-{month}",
                    customer_external_id=customer,
                    amount=plan,
                    currency=partner.program.currency,
                    occurred_at=at,
                )
            )
    events += sales

    refunds = rng.sample(sales, min(8, len(sales)))
    for n, sale in enumerate(refunds):
        assert sale.amount is not None and sale.occurred_at is not None
        partial = n % 2 == 0
        events.append(
            IncomingEvent(
                kind="refund",
                event_id=f"demo-refund-{n:02d}",
                sale_event_id=sale.event_id,
                amount=(sale.amount / 2).quantize(Decimal("0.01")) if partial else None,
                occurred_at=min(sale.occurred_at + timedelta(days=rng.randrange(1, 20)), now - timedelta(hours=1)),
            )
        )

    # Events that end unattributed, so the events page has something to explain.
    events.append(
        IncomingEvent(
            kind="sale",
            event_id="demo-sale-organic-1",
            customer_external_id="walk-in-17",
            amount=Decimal("99.00"),
            currency="USD",
            occurred_at=now - timedelta(days=2),
        )
    )
    events.append(
        IncomingEvent(
            kind="lead",
            event_id="demo-lead-bad-code",
            customer_external_id="demo-cus-typo",
            code="SPRNG2O",
            occurred_at=now - timedelta(days=1),
        )
    )
    reseller = next((c for c in customers if c[2].program.currency == "EUR"), None)
    if reseller:
        # A reseller's customer paying in dollars: converted with the day's rate where there is one.
        rate_day = (now - timedelta(days=5)).date()
        services.add_exchange_rate(
            workspace=workspace,
            day=rate_day,
            from_currency="USD",
            to_currency="EUR",
            rate=Decimal("0.9234"),
            by=None,
            actor_label="Demo data",
        )
        for label, day in (("rate", rate_day), ("norate", (now - timedelta(days=4)).date())):
            events.append(
                IncomingEvent(
                    kind="sale",
                    event_id=f"demo-sale-usd-{label}",
                    customer_external_id=reseller[0],
                    amount=Decimal("120.00"),
                    currency="USD",
                    occurred_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15),
                )
            )

    events.sort(key=lambda e: (e.occurred_at or now, e.event_id))
    for start in range(0, len(events), 500):
        accept_events(workspace=workspace, events=events[start : start + 500], source=InboundEvent.Source.API)
    services.process_pending(workspace=workspace)

    approved = services.approve_commissions(workspace=workspace, due=True, by=None, actor_label="Demo data")
    rejected = _reject_one(workspace)
    counts = {
        label: Commission.objects.for_workspace(workspace).filter(status=status).count()
        for status, label in Commission.Status.choices
    }
    unattributed = InboundEvent.objects.for_workspace(workspace).filter(status=InboundEvent.Status.UNATTRIBUTED).count()
    return (
        f"attribution: {len(events)} events ({unattributed} unattributed), commissions "
        + ", ".join(f"{n} {label.lower()}" for label, n in counts.items())
        + f" ({len(approved)} approved and {len(rejected)} rejected on this run)"
    )


def _reject_one(workspace: Workspace) -> list[int]:
    """One pending commission a manager turned down, with the reason the partner reads."""
    if Commission.objects.for_workspace(workspace).filter(rejection_reason__startswith="Order cancelled").exists():
        return []
    target = (
        Commission.objects.for_workspace(workspace)
        .filter(status=Commission.Status.PENDING)
        .order_by("occurred_at", "id")
        .first()
    )
    if target is None:
        return []
    return services.reject_commissions(
        workspace=workspace,
        ids=[target.pk],
        by=None,
        actor_label="Demo data",
        reason="Order cancelled by the customer before delivery.",
    )
