"""The manager dashboard and the partner page's analytics: figures, filters in the URL, htmx partials, access."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from partners.models import Partner
from reporting import metrics, rollups
from reporting.filters import today
from tests.partners.factories import PartnerFactory
from tests.reporting.metrics_data import make_funnel, recompute

pytestmark = pytest.mark.django_db


@pytest.fixture
def funnel(workspace):
    make_funnel(workspace, seed=31, clicks=300, end=today())
    rollups.rebuild(workspace_id=workspace.pk, start=today() - dt.timedelta(days=400), end=today())
    return workspace


def url(workspace, **params):
    base = reverse("dashboard", args=[workspace.slug])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_dashboard_shows_the_clicks_of_the_range_as_a_recount_gives_them(funnel, manager_client):
    response = manager_client.get(url(funnel, range="90"))
    assert response.status_code == 200
    f = metrics.Filters(start=today() - dt.timedelta(days=89), end=today(), currency="USD")
    clicks = recompute(funnel, f)["clicks"]
    assert re.search(
        rf'<div class="label">Clicks</div>\s*<div class="value">{clicks:,}</div>', response.content.decode()
    )


def test_dashboard_figures_follow_random_filters(funnel, manager_client):
    import random

    rng = random.Random(5)
    partners = list(Partner.objects.filter(workspace=funnel))
    for _ in range(5):
        partner = rng.choice(partners)
        days = rng.choice(["7", "30", "90", "365"])
        response = manager_client.get(url(funnel, range=days, partner=partner.pk))
        f = metrics.Filters(
            start=today() - dt.timedelta(days=int(days) - 1),
            end=today(),
            currency=partner.program.currency,
            partner_id=partner.pk,
        )
        raw = recompute(funnel, f)
        report = response.context["report"]
        assert report.totals.clicks == raw.get("clicks", 0)
        assert report.totals.revenue == raw["sales_amount"] - raw["refunds_amount"]
        assert report.comparison.current.active_partners == raw["active_partners"]


def test_custom_range_is_kept_in_the_url_and_the_form(funnel, viewer_client):
    start, end = today() - dt.timedelta(days=20), today() - dt.timedelta(days=5)
    response = viewer_client.get(url(funnel, range="custom", start=start.isoformat(), end=end.isoformat()))
    assert response.status_code == 200
    assert response.context["report"].filters.start == start
    assert f'value="{start.isoformat()}"' in response.content.decode()


def test_an_htmx_request_gets_only_the_report_body(funnel, manager_client):
    response = manager_client.get(url(funnel, range="30"), headers={"HX-Request": "true", "HX-Target": "report-body"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="report-body"')
    assert "<html" not in body


def test_filter_form_posts_to_a_real_url_for_people_without_javascript(funnel, manager_client):
    body = manager_client.get(url(funnel)).content.decode()
    assert re.search(r'<form class="filters card" method="get" action="/w/acme/"', body)
    assert 'hx-push-url="true"' in body


def test_an_empty_workspace_gets_the_checklist_and_empty_states(workspace, owner_client):
    body = owner_client.get(url(workspace)).content.decode()
    assert "Get started" in body
    assert "No activity in this period" in body


def test_a_workspace_with_partners_has_no_checklist(workspace, owner_client):
    PartnerFactory(workspace=workspace)
    assert "Get started" not in owner_client.get(url(workspace)).content.decode()


def test_charts_are_server_rendered_svg_with_labels(funnel, manager_client):
    body = manager_client.get(url(funnel, range="90")).content.decode()
    assert body.count('<svg class="chart') == 4
    assert 'role="img" aria-label="Clicks per day' in body


def test_bad_dates_show_the_default_range_and_the_error(funnel, manager_client):
    response = manager_client.get(url(funnel, range="custom", start="2026-05-10", end="2026-05-01"))
    assert response.status_code == 200
    assert "The end comes before the start." in response.content.decode()


def test_outsider_gets_404(funnel, outsider_client):
    assert outsider_client.get(url(funnel)).status_code == 404


def test_partner_detail_shows_the_partners_analytics(funnel, viewer_client):
    partner = Partner.objects.filter(workspace=funnel).first()
    response = viewer_client.get(reverse("partner_detail", args=[funnel.slug, partner.pk]) + "?range=365")
    assert response.status_code == 200
    assert response.context["analytics"]["report"].filters.partner_id == partner.pk
    assert 'id="partner-analytics"' in response.content.decode()


def test_partner_analytics_htmx_renders_the_section_alone(funnel, manager_client):
    partner = Partner.objects.filter(workspace=funnel).first()
    response = manager_client.get(
        reverse("partner_detail", args=[funnel.slug, partner.pk]) + "?range=7",
        headers={"HX-Request": "true", "HX-Target": "partner-analytics"},
    )
    assert response.content.decode().lstrip().startswith('<div id="partner-analytics"')


def test_outsider_gets_404_for_a_partner_page(funnel, outsider_client):
    partner = Partner.objects.filter(workspace=funnel).first()
    assert outsider_client.get(reverse("partner_detail", args=[funnel.slug, partner.pk])).status_code == 404


def test_portal_home_shows_the_partners_own_figures_and_next_payout(workspace, partner_user, partner_client):
    response = partner_client.get(reverse("portal_home", args=[workspace.slug]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Next payout" in body
    assert "Commissions by state" in body
    assert response.context["report"].filters.partner_id == partner_user.partner_logins.first().partner_id


def test_the_beat_task_warms_the_dashboard_presets_once_per_rollup_generation(funnel):
    from reporting.reports.build import warm_dashboard

    assert warm_dashboard(funnel) == 4
    assert warm_dashboard(funnel) == 0
    rollups.refresh_days(workspace_id=funnel.pk, dates=[today()])
    assert warm_dashboard(funnel) == 4


def test_a_cached_report_is_dropped_when_the_rollups_change(funnel, manager_client):
    from django.utils import timezone

    from referrals.models import Click, Link

    first = manager_client.get(url(funnel, range="7")).context["report"].totals.clicks
    link = Link.objects.filter(workspace=funnel).first()
    Click.objects.create(
        workspace=funnel,
        link=link,
        partner=link.partner,
        click_id="fresh-click-1",
        clicked_at=timezone.now(),
        ip_hash="x",
        visitor_hash="y",
    )
    rollups.refresh_days(workspace_id=funnel.pk, dates=[today()])
    response = manager_client.get(url(funnel, range="7", currency=link.program.currency))
    again = manager_client.get(url(funnel, range="7", currency=link.program.currency)).context["report"].totals.clicks
    assert again == response.context["report"].totals.clicks
    if link.program.currency == "USD":
        assert again == first + 1


def test_next_payout_is_the_approved_unpaid_commissions_net_of_reversals(workspace):
    from decimal import Decimal

    from attribution.models import Commission
    from reporting.metrics import expected_payout

    make_funnel(workspace, seed=61, clicks=200)
    partner = Partner.objects.filter(workspace=workspace).first()
    approved = Commission.objects.filter(partner=partner, status="approved")
    expected = sum((c.amount - c.reversed_amount for c in approved), Decimal("0"))
    payout = expected_payout(partner, today=dt.date(2026, 7, 14))
    assert payout.amount == expected
    assert payout.period_end == dt.date(2026, 7, 31)
    assert payout.currency == partner.program.currency


def test_portal_htmx_request_renders_only_the_report(workspace, partner_user, partner_client):
    response = partner_client.get(
        reverse("portal_home", args=[workspace.slug]) + "?range=7",
        headers={"HX-Request": "true", "HX-Target": "portal-report"},
    )
    assert response.content.decode().lstrip().startswith('<div id="portal-report"')
