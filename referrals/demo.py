"""The referrals part of the demo workspace: links, codes, a year of clicks and deal registrations.

Called by reporting/demo.py after the partners are seeded. Links, codes and deals go through the
services; clicks are inserted in bulk (they are seed data, not visits), once per workspace. Safe
to repeat: what exists is left alone. No email is sent.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Membership, Role, Workspace
from partners.models import Partner
from referrals import services
from referrals.clicks import hashing
from referrals.clicks.ids import new_click_id
from referrals.clicks.writer import remember_recent_clicks
from referrals.models import Click, DealRegistration, Link, ReferralCode

DAYS = 365  # a year, so the dashboard's 12-month view and its comparisons mean something
TARGET_CLICKS = 12_000
PAGES = (
    ("https://shop.demo.tandem.test/", "", ""),
    ("https://demo.tandem.test/pricing", "newsletter", "spring-launch"),
    ("https://demo.tandem.test/features?ref=partner", "youtube", "reviews"),
)
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
)
BOTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
)
REFERRERS = (
    "",
    "",
    "https://www.google.com/",
    "https://t.co/",
    "https://news.ycombinator.com/",
    "https://www.linkedin.com/",
)

# (company, contact, email, value, status) — Paula's deals show every status in the portal.
DEALS = (
    ("Initech", "Bill Lumbergh", "bill@initech.example", "48000", "submitted"),
    ("Globex Corporation", "Hank Scorpio", "hank@globex.example", "120000", "approved"),
    ("Umbrella Retail", "Alice Abernathy", "alice@umbrella.example", "9000", "rejected"),
    ("Vandelay Industries", "Art Vandelay", "art@vandelay.example", "15000", "expired"),
)
RIVAL_DEAL = ("Initech", "Peter Gibbons", "peter@initech.example", "30000", "submitted")  # a conflict to review


def _partner_slug(partner: Partner) -> str:
    return slugify(partner.name.split()[0])[:20] or f"p{partner.pk}"


def seed_referrals(workspace: Workspace, *, clicks: int = TARGET_CLICKS) -> str:
    partners = list(
        Partner.objects.for_workspace(workspace)
        .filter(status__in=[Partner.Status.ACTIVE, Partner.Status.SUSPENDED])
        .select_related("program")
        .order_by("pk")
    )
    if not partners:
        return "referrals: no active partners, nothing seeded"
    links = _seed_links(workspace, partners)
    codes = _seed_codes(workspace, partners)
    made = _seed_clicks(workspace, links, target=clicks)
    deals = _seed_deals(workspace, partners)
    return f"referrals: {len(links)} links, {codes} codes, {made} clicks, {deals} deal registrations"


def _seed_links(workspace: Workspace, partners: list[Partner]) -> list[Link]:
    links: list[Link] = []
    for index, partner in enumerate(partners):
        base = _partner_slug(partner)
        for number, (url, channel, campaign) in enumerate(PAGES[: 1 + index % len(PAGES)]):
            code = base if number == 0 else f"{base}-{channel or number}"
            existing = Link.objects.filter(code=code).first()  # codes are global: reuse only our own
            if existing is not None:
                if existing.workspace_id == workspace.pk:
                    links.append(existing)
                continue
            links.append(
                services.create_link(
                    workspace=workspace,
                    partner=partner,
                    destination_url=url,
                    code=code,
                    channel=channel,
                    campaign=campaign,
                    utm={"utm_source": "partner", "utm_medium": channel or "referral"},
                    actor_label="Demo data",
                ).link
            )
    return links


def _seed_codes(workspace: Workspace, partners: list[Partner]) -> int:
    for partner in partners:
        code = f"{_partner_slug(partner).upper().replace('-', '')[:12]}20"
        if not ReferralCode.objects.for_workspace(workspace).filter(code__iexact=code).exists():
            services.create_referral_code(
                workspace=workspace, partner=partner, code=code, channel="podcast", actor_label="Demo data"
            )
    return ReferralCode.objects.for_workspace(workspace).count()


def _seed_clicks(workspace: Workspace, links: list[Link], *, target: int) -> int:
    """About twelve thousand clicks over a year: growing, busier on weekdays, some bots, some repeat visitors."""
    if Click.objects.for_workspace(workspace).exists() or not links:
        return Click.objects.for_workspace(workspace).count()
    rng = random.Random(20240611)
    today = timezone.now().astimezone(UTC).date()
    weights = [1.0 + 3.0 * rng.random() for _ in links]
    visitors = [(f"198.51.{rng.randrange(256)}.{rng.randrange(256)}", rng.choice(BROWSERS)) for _ in range(900)]
    per_day = []
    for offset in range(DAYS):
        day = today - timedelta(days=DAYS - 1 - offset)
        growth = 0.5 + offset / DAYS
        weekday = 1.0 if day.weekday() < 5 else 0.55
        per_day.append(growth * weekday * (0.8 + 0.4 * rng.random()))
    scale = target / sum(per_day)

    visits: list[tuple[Click, str]] = []
    now = timezone.now()
    for offset, volume in enumerate(per_day):
        day = today - timedelta(days=DAYS - 1 - offset)
        for _ in range(int(volume * scale)):
            at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(seconds=rng.randrange(86400))
            if at > now:
                continue
            link = rng.choices(links, weights)[0]
            bot = rng.random() < 0.07
            if bot:
                ip, agent = f"66.249.{rng.randrange(64, 96)}.{rng.randrange(256)}", rng.choice(BOTS)
            elif rng.random() < 0.2:
                regular = rng.randrange(12)  # a few regulars keep coming back through their usual link
                ip, agent = visitors[regular]
                link = links[regular % len(links)]
            else:
                ip, agent = rng.choice(visitors)
            visits.append((_click(workspace, link, at, ip, agent, bot, rng), f"{ip}\n{agent}"))
    visits.sort(key=lambda visit: visit[0].clicked_at)
    last_seen: dict[tuple[int, str], datetime] = {}
    rows = []
    for click, visitor in visits:  # unique: first human visit of this visitor to this link in 24 hours
        rows.append(click)
        if click.is_bot:
            click.is_unique = False
            continue
        previous = last_seen.get((click.link_id, visitor))
        click.is_unique = previous is None or click.clicked_at - previous >= timedelta(hours=24)
        last_seen[(click.link_id, visitor)] = click.clicked_at
    Click.objects.bulk_create(rows, batch_size=2000)
    remember_recent_clicks(workspace_id=workspace.pk)  # so a live repeat visit is not unique
    return len(rows)


def _click(workspace: Workspace, link: Link, at: datetime, ip: str, agent: str, bot: bool, rng: random.Random) -> Click:
    day: date = at.date()
    return Click(
        workspace=workspace,
        link=link,
        partner_id=link.partner_id,
        click_id=new_click_id(at.timestamp()),
        clicked_at=at,
        ip_hash=hashing.ip_hash(ip, day),
        visitor_hash=hashing.visitor_hash(ip, agent, day),
        user_agent=agent,
        referrer=rng.choice(REFERRERS),
        is_bot=bot,
        earns_credit=link.partner.status == Partner.Status.ACTIVE,
    )


def _seed_deals(workspace: Workspace, partners: list[Partner]) -> int:
    manager = (
        Membership.objects.for_workspace(workspace)
        .filter(role__in=[Role.OWNER, Role.MANAGER])
        .select_related("user")
        .order_by("role", "pk")
        .first()
    )
    if manager is None:
        return 0
    paula = next((p for p in partners if p.email == "partner@demo.test"), partners[0])
    rival = next((p for p in partners if p.pk != paula.pk and p.status == Partner.Status.ACTIVE), None)
    plan = [(paula, deal) for deal in DEALS] + ([(rival, RIVAL_DEAL)] if rival else [])
    for partner, (company, contact, email, value, status) in plan:
        if DealRegistration.objects.for_workspace(workspace).filter(partner=partner, contact_email=email).exists():
            continue
        deal = services.submit_deal_registration(
            workspace=workspace,
            partner=partner,
            company=company,
            contact_name=contact,
            contact_email=email,
            estimated_value=value,
            currency=partner.program.currency,
            notes="Met at the spring trade fair; evaluating three vendors.",
        )
        if status in ("approved", "expired"):
            services.approve_deal_registration(
                deal=deal, by=manager.user, reason="Thanks, it's yours.", notify_partner=False
            )
        if status == "rejected":
            services.reject_deal_registration(
                deal=deal, by=manager.user, reason="Already a customer of ours.", notify_partner=False
            )
        if status == "expired":
            DealRegistration.objects.for_workspace(deal.workspace).filter(pk=deal.pk).update(
                expires_at=timezone.now() - timedelta(days=1)
            )
    services.expire_deal_registrations()
    return DealRegistration.objects.for_workspace(workspace).count()
