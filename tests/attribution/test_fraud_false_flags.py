"""A clean program of 10,000 sales (realistic, generated) holds under 1 % of its commissions for review."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from attribution.inbox import IncomingEvent, accept_events
from attribution.models import Commission
from attribution.processing import process_pending
from partners.models import Partner
from referrals.models import Click, Link

pytestmark = pytest.mark.django_db

SALES = 10_000
PARTNERS = 60
BASE = datetime(2026, 3, 1, tzinfo=UTC)
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com", "proton.me")


def _clean_program(workspace, program, rng: random.Random) -> list[IncomingEvent]:
    partners = Partner.objects.bulk_create(
        [
            Partner(
                workspace=workspace,
                program=program,
                name=f"Partner {i}",
                email=f"owner{i}@agency{i}.com" if i % 3 else f"creator.{i}@gmail.com",
            )
            for i in range(PARTNERS)
        ]
    )
    links = Link.objects.bulk_create(
        [
            Link(
                workspace=workspace,
                program=program,
                partner=p,
                code=f"ff{i}x{rng.randrange(10**9)}",
                destination_url="https://shop.test/",
            )
            for i, p in enumerate(partners)
        ]
    )
    # Some partners sell much more than others (Zipf-like), each steadily over 60 days.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(PARTNERS)]
    clicks, events = [], []
    offices = [f"{rng.getrandbits(256):064x}" for _ in range(SALES // 8)]  # shared office and mobile networks
    for n in range(SALES):
        link = rng.choices(links, weights)[0]
        clicked_at = BASE + timedelta(seconds=rng.randrange(60 * 86400))
        # Minutes to weeks from click to sale (median about a day and a half), within the 90-day window.
        delay = timedelta(seconds=min(60 * 86400, max(120, rng.lognormvariate(11.8, 1.6))))
        visitor = f"{rng.getrandbits(128):032x}"
        ip = rng.choice(offices) if rng.random() < 0.3 else f"{rng.getrandbits(256):064x}"
        for extra in range(rng.choice((0, 0, 0, 1, 2))):  # a few come back through the link before buying
            clicks.append(
                Click(
                    workspace=workspace,
                    link=link,
                    partner_id=link.partner_id,
                    click_id=f"ffx{n}x{extra}",
                    clicked_at=clicked_at - timedelta(hours=extra + 1),
                    ip_hash=ip,
                    visitor_hash=visitor,
                )
            )
        clicks.append(
            Click(
                workspace=workspace,
                link=link,
                partner_id=link.partner_id,
                click_id=f"ff{n}",
                clicked_at=clicked_at,
                ip_hash=ip,
                visitor_hash=visitor,
            )
        )
        if rng.random() < 0.6:
            email = f"{rng.choice(('anna', 'li', 'omar', 'sam', 'kim', 'jo'))}.{n}@{rng.choice(FREE_MAIL)}"
        else:
            email = f"buyer{n}@company{rng.randrange(3000)}.com"
        events.append(
            IncomingEvent(
                kind="sale",
                event_id=f"sale{n}",
                customer_external_id=f"cust{n}",
                click_id=f"ff{n}",
                customer_email=email,
                amount=Decimal(f"{rng.choice((29, 49, 99, 199))}.00"),
                currency="USD",
                occurred_at=clicked_at + delay,
            )
        )
    Click.objects.bulk_create(clicks, batch_size=5000)
    refunds = [
        IncomingEvent(
            kind="refund",
            event_id=f"refund{n}",
            sale_event_id=f"sale{n}",
            occurred_at=e.occurred_at + timedelta(days=3),
        )
        for n, e in enumerate(events)
        if rng.random() < 0.05
    ]
    return events + refunds


def test_a_clean_program_of_ten_thousand_sales_holds_under_one_percent(workspace, program):
    events = _clean_program(workspace, program, random.Random(15))
    accept_events(workspace=workspace, events=events, source="api")
    process_pending(workspace=workspace)

    commissions = Commission.objects.for_workspace(workspace)
    assert commissions.count() == SALES
    held = commissions.filter(status=Commission.Status.IN_REVIEW).count()
    assert held < SALES / 100, f"{held} of {SALES} clean commissions held for review"
