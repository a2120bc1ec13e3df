"""Pages of the partner import: upload, preview, progress and results."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.tenancy import MANAGERS, WorkspaceRequest, get_for_workspace_or_404, workspace_member
from partners.forms import add_service_errors
from partners.imports import services
from partners.imports.forms import PartnerImportForm
from partners.imports.models import PartnerImport
from partners.services import ensure_default_program

WRITE = ("GET", "HEAD", "POST")
PREVIEW_ROWS = 20


def _get_import_or_404(request: WorkspaceRequest, import_uuid: uuid.UUID) -> PartnerImport:
    return get_for_workspace_or_404(
        PartnerImport.objects.select_related("program", "group"), request.workspace, uuid=import_uuid
    )


@workspace_member(MANAGERS, methods=WRITE)
def partner_import(request: WorkspaceRequest) -> HttpResponse:
    """Upload a CSV of partners; the next page previews it before anything is imported."""
    default = ensure_default_program(workspace=request.workspace)
    form = PartnerImportForm(
        request.POST or None, request.FILES or None, workspace=request.workspace, initial={"program": default}
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            created = services.create_import(
                workspace=request.workspace,
                program=form.cleaned_data["program"],
                group=form.cleaned_data["group"],
                invite=form.cleaned_data["invite"],
                data=upload.read(),
                filename=upload.name,
                by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("partner_import_detail", slug=request.workspace.slug, import_uuid=created.uuid)
    recent = PartnerImport.objects.for_workspace(request.workspace).order_by("-created_at")[:5]
    return render(request, "partners/import/upload.html", {"form": form, "recent": recent})


@workspace_member(MANAGERS)
def partner_import_detail(request: WorkspaceRequest, import_uuid: uuid.UUID) -> HttpResponse:
    """The preview before the go-ahead, then the progress (polled by htmx), then each row's result."""
    job = _get_import_or_404(request, import_uuid)
    bad_rows = job.bad_rows
    context = {
        "job": job,
        "preview": job.rows[:PREVIEW_ROWS],
        "bad_rows": bad_rows,
        "good_count": job.total - len(bad_rows),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "partners/import/detail.html#progress", context)
    return render(request, "partners/import/detail.html", context)


@workspace_member(MANAGERS, methods=("POST",))
def partner_import_start(request: WorkspaceRequest, import_uuid: uuid.UUID) -> HttpResponse:
    job = services.start_import(partner_import=_get_import_or_404(request, import_uuid), by=request.user)
    if job.status == PartnerImport.Status.QUEUED:
        messages.success(request, f"Importing {job.total} row{'s' if job.total != 1 else ''} of {job.filename}.")
    return redirect("partner_import_detail", slug=request.workspace.slug, import_uuid=job.uuid)
