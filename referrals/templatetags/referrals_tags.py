"""Template tags that put the referrals app's sections on pages other apps own (partner detail, nav)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse

from partners.models import Partner
from referrals import selectors
from referrals.charts import bar_chart

register = template.Library()
SECTION_ROWS = 10


@register.simple_tag
def deals_awaiting_count(workspace: Any) -> int:
    return selectors.deals_awaiting_review(workspace)


@register.inclusion_tag("referrals/_partner_sections.html", takes_context=True)
def partner_referral_sections(context: template.Context, partner: Partner, can_manage: bool = False) -> dict[str, Any]:
    """Links, codes, daily clicks and referrals of one partner, for the manager's partner page."""
    workspace = partner.workspace
    links = selectors.with_click_counts(workspace, list(selectors.links(workspace, partner=partner)[:SECTION_ROWS]))
    base = settings.SITE_URL.rstrip("/")
    for link in links:
        link.short_url = base + reverse("redirect", args=[link.code])  # type: ignore[attr-defined]
    return {
        "request": context.get("request"),
        "partner": partner,
        "can_manage": can_manage,
        "links": links,
        "link_total": selectors.links(workspace, partner=partner).count(),
        "codes": list(selectors.referral_codes(workspace, partner=partner)[:SECTION_ROWS]),
        "chart": bar_chart(selectors.daily_clicks(workspace, partner=partner, days=90)),
        "funnel": selectors.partner_funnel_counts(workspace, partner),
        "referrals": list(selectors.referrals(workspace, partner=partner)[:SECTION_ROWS]),
    }
