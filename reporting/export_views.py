"""The CSV export pages: stream a small export, offer a background job for a large one, show its progress."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render

from accounts.tenancy import ANY_STAFF, WorkspaceRequest, get_for_workspace_or_404, workspace_member
from partners.models import Partner
from reporting import exports, metrics
from reporting.filters import ReportFilterForm, filters_from_request
from reporting.rollups.models import ExportJob


def _filters(request: WorkspaceRequest) -> tuple[ReportFilterForm, metrics.Filters]:
    """The dashboard's filters; `partner` pins the export to one partner as on its page (a foreign one is a 404)."""
    partner = None
    if request.GET.get("partner", "").isdigit():
        partner = Partner.objects.for_workspace(request.workspace).filter(pk=request.GET["partner"]).first()
        if partner is None:
            raise Http404("No such partner.")
    return filters_from_request(request.GET, workspace=request.workspace, partner=partner)


@workspace_member(ANY_STAFF, methods=("GET", "HEAD", "POST"))
def report_export(request: WorkspaceRequest) -> HttpResponseBase:
    """`?kind=clicks` (or partners, referrals, conversions, commissions) and the report filters."""
    kind = request.GET.get("kind", "")
    if kind not in exports.KINDS:
        raise Http404("No such export.")
    form, filters = _filters(request)
    if request.method == "POST":
        job = exports.start_export_job(workspace=request.workspace, kind=kind, filters=filters, by=request.user)
        return redirect("report_export_job", request.workspace.slug, job.pk)
    rows = exports.count(request.workspace, kind, filters)
    if rows > exports.EXPORT_STREAM_LIMIT:
        return render(
            request,
            "reporting/export_large.html",
            {
                "kind": kind,
                "rows": rows,
                "filters": filters,
                "querystring": request.GET.urlencode(),
                "limit": exports.EXPORT_STREAM_LIMIT,
            },
        )
    response = StreamingHttpResponse(
        exports.stream(request.workspace, kind, filters), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{exports.file_name(request.workspace, kind, filters)}"'
    return response


@workspace_member(ANY_STAFF)
def report_export_job(request: WorkspaceRequest, export_id: int) -> HttpResponse:
    job = get_for_workspace_or_404(ExportJob.objects.all(), request.workspace, pk=export_id)
    context = {"job": job}
    if request.htmx:
        return render(request, "reporting/export_job.html#progress", context)
    return render(request, "reporting/export_job.html", context)


@workspace_member(ANY_STAFF)
def report_export_download(request: WorkspaceRequest, export_id: int) -> FileResponse:
    job = get_for_workspace_or_404(ExportJob.objects.all(), request.workspace, pk=export_id)
    if job.status != ExportJob.Status.DONE or not job.file_name:
        raise Http404("This export is not ready.")
    name = job.file_name.rsplit("/", 1)[-1].split("-", 1)[-1]
    return FileResponse(
        default_storage.open(job.file_name, "rb"), as_attachment=True, filename=name, content_type="text/csv"
    )
