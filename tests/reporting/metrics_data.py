"""Random but reproducible funnel data for the metrics tests, and the same figures recomputed from
the raw rows in plain Python: the oracle the rollups and the pages are checked against."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Workspace
from attribution.models import Commission, Conversion, RewardRule
from partners.models import Partner, PartnerGroup, Program
from referrals.models import Click, DealRegistration, Link, Referral, ReferralCode
from reporting.metrics import Filters

CHANNELS = ["newsletter", "youtube", "blog", ""]
TODAY = dt.date(2026, 6, 30)


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(
        day, dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(10**6)), tzinfo=dt.UTC
    )


def make_funnel(
    workspace: Workspace, *, seed: int = 1, partners: int = 6, clicks: int = 400, days: int = 60, end: dt.date = TODAY
) -> None:
    """Programs in two currencies, groups, partners, links and codes with channels, clicks (some bots),
    referrals of every source, sales, refunds and commissions in every state, over `days` days."""
    rng = random.Random(seed)
    start = end - dt.timedelta(days=days - 1)
    day = lambda: start + dt.timedelta(days=rng.randrange(days))  # noqa: E731
    usd = Program.objects.create(workspace=workspace, name="Main", slug=f"main-{seed}", currency="USD")
    eur = Program.objects.create(workspace=workspace, name="Europe", slug=f"eu-{seed}", currency="EUR")
    groups = [PartnerGroup.objects.create(workspace=workspace, name=f"Tier {seed}-{i}") for i in range(2)]
    rules = {
        p.pk: RewardRule.objects.create(
            workspace=workspace,
            program=p,
            rule_key=uuid.uuid4(),
            name="Default",
            sale_value=Decimal("20"),
            effective_from=timezone.now() - dt.timedelta(days=900),
        )
        for p in (usd, eur)
    }
    partner_rows = [
        Partner.objects.create(
            workspace=workspace,
            program=usd if i % 3 else eur,
            group=rng.choice(groups + [None]),
            name=f"Partner {seed}-{i}",
            email=f"p{seed}-{i}@example.test",
        )
        for i in range(partners)
    ]
    links, codes = [], []
    for partner in partner_rows:
        for n in range(2):
            links.append(
                Link.objects.create(
                    workspace=workspace,
                    program=partner.program,
                    partner=partner,
                    code=f"l{seed}x{partner.pk}x{n}{uuid.uuid4().hex[:6]}",
                    destination_url="https://shop.example.com/",
                    channel=rng.choice(CHANNELS),
                    campaign=rng.choice(["spring", "", "launch"]),
                )
            )
        codes.append(
            ReferralCode.objects.create(
                workspace=workspace,
                program=partner.program,
                partner=partner,
                code=f"C{seed}X{partner.pk}{uuid.uuid4().hex[:4]}",
                channel=rng.choice(CHANNELS),
            )
        )
    click_rows = []
    for n in range(clicks):
        link = rng.choice(links)
        click_rows.append(
            Click(
                workspace=workspace,
                link=link,
                partner=link.partner,
                click_id=uuid.uuid4().hex,
                clicked_at=_at(day(), rng),
                ip_hash="x" * 64,
                visitor_hash=f"{n:032x}",
                is_bot=rng.random() < 0.15,
                is_unique=rng.random() < 0.7,
            )
        )
    click_rows = Click.objects.bulk_create(click_rows)
    human = [c for c in click_rows if not c.is_bot]
    used_clicks: set[int] = set()
    for n in range(clicks // 4):
        kind = rng.choices(["link", "code", "deal_registration", "manual"], [6, 2, 1, 1])[0]
        click = code = deal = None
        if kind == "link":
            click = rng.choice(human if rng.random() < 0.95 else click_rows)
            if click.pk in used_clicks:
                continue
            used_clicks.add(click.pk)
            partner = click.partner
            created = click.clicked_at + dt.timedelta(hours=rng.randrange(1, 24 * 5))
            if rng.random() < 0.3:
                code = next(c for c in codes if c.partner_id == partner.pk)
        elif kind == "code":
            code = rng.choice(codes)
            partner = code.partner
            created = _at(day(), rng)
        else:
            partner = rng.choice(partner_rows)
            created = _at(day(), rng)
        if kind == "deal_registration":
            deal = DealRegistration.objects.create(
                workspace=workspace,
                program=partner.program,
                partner=partner,
                company="Co",
                contact_name="C",
                contact_email="c@example.org",
                estimated_value=Decimal("100"),
                currency=partner.program.currency,
                status=DealRegistration.Status.APPROVED,
            )
            DealRegistration.objects.filter(pk=deal.pk).update(
                created_at=created - dt.timedelta(days=rng.randrange(1, 9))
            )
        referral = Referral.objects.create(
            workspace=workspace,
            program=partner.program,
            partner=partner,
            customer_external_id=f"cus-{seed}-{n}",
            source=kind,
            click=click,
            code=code,
            deal_registration=deal,
        )
        Referral.objects.filter(pk=referral.pk).update(created_at=created)
        for s in range(rng.choice([0, 0, 1, 1, 2, 3])):
            at = created + dt.timedelta(hours=rng.randrange(1, 24 * 20), seconds=rng.randrange(3600))
            amount = Decimal(rng.randrange(1000, 50000)) / 100
            sale = Conversion.objects.create(
                workspace=workspace,
                program=partner.program,
                referral=referral,
                partner=partner,
                kind="sale",
                event_id=f"s-{seed}-{n}-{s}",
                amount=amount,
                currency=partner.program.currency,
                occurred_at=at,
            )
            status = rng.choice(["pending", "approved", "paid", "rejected", "reversed", "pending"])
            commission_amount = (amount * Decimal("0.2")).quantize(Decimal("0.01"))
            reversed_amount = Decimal("0")
            if rng.random() < 0.2:
                refund_amount = (amount * Decimal(rng.choice(["0.5", "1"]))).quantize(Decimal("0.01"))
                Conversion.objects.create(
                    workspace=workspace,
                    program=partner.program,
                    referral=referral,
                    partner=partner,
                    kind="refund",
                    event_id=f"r-{seed}-{n}-{s}",
                    amount=refund_amount,
                    currency=partner.program.currency,
                    sale=sale,
                    occurred_at=at + dt.timedelta(days=rng.randrange(0, 6)),
                )
                if status != "rejected":
                    reversed_amount = (commission_amount * refund_amount / amount).quantize(Decimal("0.01"))
                    status = "reversed" if reversed_amount == commission_amount else status
            Commission.objects.create(
                workspace=workspace,
                program=partner.program,
                partner=partner,
                referral=referral,
                conversion=sale,
                reward_rule=rules[partner.program_id],
                kind="sale",
                amount=commission_amount,
                currency=partner.program.currency,
                status=status,
                occurred_at=at,
                hold_until=at + dt.timedelta(days=30),
                reversed_amount=reversed_amount,
            )


# --- The oracle ---------------------------------------------------------------------------


@dataclass
class Slice:
    program: Program
    partner: Partner
    channel: str
    source: str


def _referral_slice(referral: Referral) -> tuple[str, str]:
    if referral.click_id:
        return referral.click.link.channel, referral.source
    if referral.code_id:
        return referral.code.channel, referral.source
    return "", referral.source


def _day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def recompute(workspace: Workspace, f: Filters) -> dict[str, Any]:
    """Every metric of `reporting.metrics` for `f`, straight from the raw rows."""

    def keep(program: Program, partner: Partner, channel: str, day: dt.date) -> bool:
        return (
            f.start <= day <= f.end
            and program.currency == f.currency
            and (f.program_id is None or program.pk == f.program_id)
            and (f.partner_id is None or partner.pk == f.partner_id)
            and (f.group_id is None or partner.group_id == f.group_id)
            and (f.channel is None or channel == f.channel)
        )

    out: dict[str, Any] = defaultdict(int)
    for key in (
        "sales_amount",
        "refunds_amount",
        "commission_pending",
        "commission_approved",
        "commission_paid",
        "commission_rejected",
        "commission_reversed",
        "commission_net",
    ):
        out[key] = Decimal("0")
    active: set[int] = set()
    by_partner: dict[int, Decimal] = defaultdict(Decimal)
    by_channel: dict[str, int] = defaultdict(int)
    by_source: dict[str, int] = defaultdict(int)
    series: dict[dt.date, int] = defaultdict(int)
    sales_of: dict[int, list[Conversion]] = defaultdict(list)
    for sale in Conversion.objects.filter(workspace=workspace, kind="sale"):
        sales_of[sale.referral_id].append(sale)

    for c in Click.objects.filter(workspace=workspace).select_related("link__program", "partner"):
        if not keep(c.link.program, c.partner, c.link.channel, _day(c.clicked_at)):
            continue
        if c.is_bot:
            out["bot_clicks"] += 1
            continue
        out["clicks"] += 1
        out["unique_clicks"] += c.is_unique
        active.add(c.partner_id)
        by_channel[c.link.channel] += 1
        series[_day(c.clicked_at)] += 1
        won = Referral.objects.filter(workspace=workspace, click=c)
        out["clicked_leads"] += won.count()
        out["clicked_customers"] += sum(1 for r in won if sales_of[r.pk])

    referrals = Referral.objects.filter(workspace=workspace).select_related(
        "program", "partner", "click__link", "code", "deal_registration"
    )
    timings = []
    for r in referrals:
        channel, source = _referral_slice(r)
        if keep(r.program, r.partner, channel, _day(r.created_at)):
            out["leads"] += 1
            out["converted_leads"] += bool(sales_of[r.pk])
            active.add(r.partner_id)
            by_source[source] += 1
        if sales_of[r.pk]:
            first = min(sales_of[r.pk], key=lambda s: (s.occurred_at, s.pk))
            if keep(r.program, r.partner, channel, _day(first.occurred_at)):
                out["customers"] += 1
                touch = (
                    r.click.clicked_at
                    if r.click_id
                    else (r.deal_registration.created_at if r.deal_registration_id else r.created_at)
                )
                timings.append(max(0, int((first.occurred_at - touch).total_seconds())))

    for v in Conversion.objects.filter(workspace=workspace).select_related(
        "program", "partner", "referral__click__link", "referral__code"
    ):
        channel, _ = _referral_slice(v.referral)
        if not keep(v.program, v.partner, channel, _day(v.occurred_at)):
            continue
        if v.kind == "sale":
            out["sales"] += 1
            out["sales_amount"] += v.amount
            active.add(v.partner_id)
            by_partner[v.partner_id] += v.amount
        else:
            out["refunds"] += 1
            out["refunds_amount"] += v.amount

    for m in Commission.objects.filter(workspace=workspace).select_related(
        "program", "partner", "referral__click__link", "referral__code"
    ):
        channel, _ = _referral_slice(m.referral)
        if not keep(m.program, m.partner, channel, _day(m.occurred_at)):
            continue
        if m.status == "rejected":
            out["commission_rejected"] += m.amount
            continue
        if m.status in ("pending", "approved", "paid"):
            out[f"commission_{m.status}"] += m.amount - m.reversed_amount
        out["commission_reversed"] += m.reversed_amount
        out["commission_net"] += m.amount - m.reversed_amount

    timings.sort()
    out["active_partners"] = len(active)
    out["median_seconds"] = _percentile_disc(timings, 0.5)
    out["p90_seconds"] = _percentile_disc(timings, 0.9)
    out["timing_count"] = len(timings)
    out["by_partner_sales"] = {k: v for k, v in by_partner.items() if v}
    out["by_channel_clicks"] = {k: v for k, v in by_channel.items() if v}
    out["by_source_leads"] = {k: v for k, v in by_source.items() if v}
    out["series_clicks"] = dict(series)
    return dict(out)


def _percentile_disc(values: list[int], fraction: float) -> int | None:
    """PostgreSQL's percentile_disc: the first value whose cumulative share reaches `fraction`."""
    if not values:
        return None
    import math

    return values[max(0, math.ceil(fraction * len(values)) - 1)]
