"""CSV exports: streamed for the current filters, a background job with progress when too large."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from referrals.models import Click
from reporting import exports, rollups
from reporting.filters import today
from reporting.rollups.models import ExportJob
from tests.reporting.metrics_data import make_funnel

pytestmark = pytest.mark.django_db


@pytest.fixture
def funnel(workspace):
    make_funnel(workspace, seed=51, clicks=200, end=today())
    rollups.rebuild(workspace_id=workspace.pk, start=today() - dt.timedelta(days=90), end=today())
    return workspace


def read_csv(response):
    content = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return list(csv.reader(io.StringIO(content)))


def export_url(workspace, kind, **params):
    query = "&".join(f"{k}={v}" for k, v in {"kind": kind, **params}.items())
    return reverse("report_export", args=[workspace.slug]) + f"?{query}"


def test_clicks_export_streams_the_clicks_of_the_filters(funnel, viewer_client):
    response = viewer_client.get(export_url(funnel, "clicks", range="90", currency="USD"))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert rows[0][:2] == ["click_id", "clicked_at"]
    start = dt.datetime.combine(today() - dt.timedelta(days=89), dt.time.min, tzinfo=dt.UTC)
    expected = Click.objects.filter(workspace=funnel, clicked_at__gte=start, link__program__currency="USD").count()
    assert len(rows) - 1 == expected


@pytest.mark.parametrize("kind", ["partners", "referrals", "conversions", "commissions"])
def test_every_export_has_a_header_and_rows(funnel, manager_client, kind):
    rows = read_csv(manager_client.get(export_url(funnel, kind, range="90", currency="USD")))
    assert len(rows) > 1
    assert all(len(row) == len(rows[0]) for row in rows)


def test_partners_export_has_the_dashboard_numbers(funnel, manager_client):
    response = manager_client.get(reverse("dashboard", args=[funnel.slug]) + "?range=90&currency=USD")
    top = {row.key: row.totals.clicks for row in response.context["report"].top_partners}
    rows = read_csv(manager_client.get(export_url(funnel, "partners", range="90", currency="USD")))
    by_id = {int(r[0]): int(r[2]) for r in rows[1:]}
    for partner_id, clicks in top.items():
        assert by_id[partner_id] == clicks


def test_a_channel_filter_narrows_the_export(funnel, manager_client):
    rows = read_csv(manager_client.get(export_url(funnel, "clicks", range="90", currency="USD", channel="newsletter")))
    assert {r[5] for r in rows[1:]} <= {"newsletter"}


def test_an_export_too_large_for_a_request_offers_a_background_job(funnel, manager_client, settings, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_STREAM_LIMIT", 5)
    response = manager_client.get(export_url(funnel, "clicks", range="90", currency="USD"))
    assert response.status_code == 200
    assert "Prepare the CSV file" in response.content.decode()


def test_the_background_job_writes_the_file_and_reports_progress(
    funnel, manager_client, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr("reporting.tasks.run_export_job.delay", lambda job_id: None)  # the worker's part is run below
    monkeypatch.setattr(exports, "EXPORT_STREAM_LIMIT", 5)
    response = manager_client.post(export_url(funnel, "clicks", range="90", currency="USD"))
    job = ExportJob.objects.get(workspace=funnel)
    assert response.status_code == 302
    exports.run_export(job)  # the worker's part, run here
    job.refresh_from_db()
    assert job.status == "done" and job.percent == 100
    page = manager_client.get(reverse("report_export_job", args=[funnel.slug, job.pk]), headers={"HX-Request": "true"})
    assert "Download CSV" in page.content.decode()
    download = manager_client.get(reverse("report_export_download", args=[funnel.slug, job.pk]))
    rows = read_csv(download)
    assert len(rows) - 1 == job.written_rows > 5


def test_a_running_job_polls_with_htmx(funnel, manager_client):
    job = ExportJob.objects.create(
        workspace=funnel, kind="clicks", filters={}, status="running", total_rows=100, written_rows=40
    )
    body = manager_client.get(reverse("report_export_job", args=[funnel.slug, job.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in body and 'aria-valuenow="40"' in body


def test_an_outsider_gets_404_for_an_export_and_a_job(funnel, outsider_client):
    job = ExportJob.objects.create(workspace=funnel, kind="clicks", filters={})
    assert outsider_client.get(export_url(funnel, "clicks")).status_code == 404
    assert outsider_client.post(export_url(funnel, "clicks")).status_code == 404
    assert outsider_client.get(reverse("report_export_job", args=[funnel.slug, job.pk])).status_code == 404


def test_another_workspaces_job_is_a_404(funnel, other_workspace, manager_client):
    job = ExportJob.objects.create(workspace=other_workspace, kind="clicks", filters={})
    assert manager_client.get(reverse("report_export_job", args=[funnel.slug, job.pk])).status_code == 404
    assert manager_client.get(reverse("report_export_download", args=[funnel.slug, job.pk])).status_code == 404


def test_an_unknown_export_kind_is_a_404(funnel, manager_client):
    assert manager_client.get(export_url(funnel, "secrets")).status_code == 404


def test_a_partner_name_written_as_a_formula_is_defused_in_the_export(funnel, manager_client):
    from partners.models import Partner

    listed = read_csv(manager_client.get(export_url(funnel, "partners", range="90", currency="USD")))[1][0]
    Partner.objects.filter(workspace=funnel, pk=int(listed)).update(name='=HYPERLINK("http://evil.example","x")')
    rows = read_csv(manager_client.get(export_url(funnel, "partners", range="90", currency="USD")))
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://evil.example","x")' in cells
    assert '=HYPERLINK("http://evil.example","x")' not in cells
