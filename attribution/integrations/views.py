"""Pages and endpoints of the integrations: Stripe and HubSpot settings and webhooks, and CSV import."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from accounts.api_platform import error_body
from accounts.models import Workspace
from accounts.tenancy import MANAGERS, WorkspaceRequest, get_for_workspace_or_404, workspace_member
from attribution.integrations import csv_import, csv_rows, hubspot, services, stripe
from attribution.integrations.forms import CsvUploadForm, HubSpotSettingsForm, MappingForm, StripeSecretForm
from attribution.integrations.models import CsvImport
from attribution.integrations.webhooks import WebhookRejected
from core.spreadsheets import safe_cell

WRITE = ("GET", "HEAD", "POST")
POST = ("POST",)


# --- Webhooks (public: the signature is the authentication) ----------------------------------------------


def _json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def _webhook_workspace(request: HttpRequest, workspace_slug: str) -> Workspace | JsonResponse:
    if request.method != "POST":
        response = _json_error(405, "method_not_allowed", "Send webhooks with POST.")
        response["Allow"] = "POST"
        return response
    workspace = Workspace.objects.filter(slug=workspace_slug).first()
    if workspace is None:
        return _json_error(404, "not_found", "No workspace has this webhook address.")
    return workspace


@csrf_exempt
def stripe_webhook(request: HttpRequest, workspace_slug: str) -> JsonResponse:
    workspace = _webhook_workspace(request, workspace_slug)
    if isinstance(workspace, JsonResponse):
        return workspace
    try:
        result = stripe.receive(
            workspace=workspace,
            payload=request.body,
            signature_header=request.headers.get("Stripe-Signature"),
        )
    except WebhookRejected as exc:
        return _json_error(exc.status, exc.code, exc.message)
    return JsonResponse(result.as_json())


def _public_uris(request: HttpRequest) -> list[str]:
    # HubSpot signs the URL it was given; behind a proxy that is SITE_URL's, not necessarily ours.
    site = str(getattr(django_settings, "SITE_URL", "")).rstrip("/")
    uris = [request.build_absolute_uri()]
    if site:
        uris.append(site + request.get_full_path())
    return uris


@csrf_exempt
def hubspot_webhook(request: HttpRequest, workspace_slug: str) -> JsonResponse:
    workspace = _webhook_workspace(request, workspace_slug)
    if isinstance(workspace, JsonResponse):
        return workspace
    try:
        result = hubspot.receive(
            workspace=workspace,
            method=request.method or "POST",
            uris=_public_uris(request),
            payload=request.body,
            signature=request.headers.get("X-HubSpot-Signature-v3"),
            timestamp=request.headers.get("X-HubSpot-Request-Timestamp"),
        )
    except WebhookRejected as exc:
        return _json_error(exc.status, exc.code, exc.message)
    return JsonResponse(result.as_json())


# --- Integration settings --------------------------------------------------------------------------------


def _webhook_url(name: str, workspace: Workspace) -> str:
    return str(django_settings.SITE_URL).rstrip("/") + reverse(name, args=[workspace.slug])


def _integrations_context(request: WorkspaceRequest, **forms: Any) -> dict[str, Any]:
    row = services.settings_for(request.workspace)
    return {
        "settings": row,
        "stripe_form": forms.get("stripe_form") or StripeSecretForm(),
        "hubspot_form": forms.get("hubspot_form")
        or HubSpotSettingsForm(
            initial={
                "app_id": row.hubspot_app_id,
                "closed_won_stages": ", ".join(row.hubspot_closed_won_stages or []),
                "default_currency": row.hubspot_default_currency,
            }
        ),
        "stripe_url": _webhook_url("stripe_webhook", request.workspace),
        "hubspot_url": _webhook_url("hubspot_webhook", request.workspace),
        "stripe_events": sorted(stripe.HANDLED_TYPES),
    }


def _apply_errors(form: Any, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        field = next((f for f in (name, f"map_{name}") if f in form.fields), None)
        form.add_error(field, errors)


@workspace_member(MANAGERS)
def integration_settings(request: WorkspaceRequest) -> HttpResponse:
    return render(request, "attribution/integrations/page.html", _integrations_context(request))


@workspace_member(MANAGERS, methods=POST)
def stripe_settings(request: WorkspaceRequest) -> HttpResponse:
    form = StripeSecretForm(request.POST)
    if form.is_valid():
        try:
            services.set_stripe_signing_secret(
                workspace=request.workspace, signing_secret=form.cleaned_data["signing_secret"], by=request.user
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Stripe signing secret saved. Tandem now accepts events signed with it.")
            if request.htmx:
                return render(request, "attribution/integrations/page.html#stripe_card", _integrations_context(request))
            return redirect("integration_settings", slug=request.workspace.slug)
    context = _integrations_context(request, stripe_form=form)
    template = (
        "attribution/integrations/page.html#stripe_card" if request.htmx else "attribution/integrations/page.html"
    )
    return render(request, template, context, status=422)


@workspace_member(MANAGERS, methods=POST)
def hubspot_settings(request: WorkspaceRequest) -> HttpResponse:
    form = HubSpotSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.set_hubspot_settings(workspace=request.workspace, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "HubSpot settings saved.")
            if request.htmx:
                return render(
                    request, "attribution/integrations/page.html#hubspot_card", _integrations_context(request)
                )
            return redirect("integration_settings", slug=request.workspace.slug)
    context = _integrations_context(request, hubspot_form=form)
    template = (
        "attribution/integrations/page.html#hubspot_card" if request.htmx else "attribution/integrations/page.html"
    )
    return render(request, template, context, status=422)


# --- CSV import ----------------------------------------------------------------------------------------------


@workspace_member(MANAGERS, methods=WRITE)
def csv_imports(request: WorkspaceRequest) -> HttpResponse:
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            row, created = csv_import.upload_csv(
                workspace=request.workspace,
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
                by=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            if not created:
                messages.info(
                    request,
                    f"This file was already uploaded on {row.created_at:%d %b %Y}; "
                    "here is that import. Its rows are never imported twice.",
                )
            return redirect("csv_import_detail", slug=request.workspace.slug, import_id=row.pk)
    page = Paginator(CsvImport.objects.for_workspace(request.workspace).select_related("created_by"), 20)
    context = {
        "form": form,
        "page": page.get_page(request.GET.get("page")),
        "max_mb": csv_import.MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return render(request, "attribution/csv_import/list.html", context, status=422 if form.errors else 200)


def _mapping_from(data: Any, row: CsvImport) -> dict[str, str]:
    return {spec.name: data.get(f"map_{spec.name}", "") for spec in csv_rows.FIELDS[row.kind]}


def _detail_context(row: CsvImport, mapping: dict[str, str], form: MappingForm | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"import": row, "fields": csv_rows.FIELDS[row.kind]}
    if row.status == CsvImport.Status.UPLOADED:
        context["form"] = form or MappingForm(row, initial_mapping=mapping)
        context["preview"] = csv_rows.preview(row, mapping)
        context["preview_problems"] = sum(1 for line in context["preview"] if line.errors)
        context["preview_ready"] = len(context["preview"]) - context["preview_problems"]
        context["headers"] = row.headers
    return context


@workspace_member(MANAGERS, methods=WRITE)
def csv_import_detail(request: WorkspaceRequest, import_id: int) -> HttpResponse:
    row = get_for_workspace_or_404(CsvImport.objects, request.workspace, pk=import_id)
    if request.method == "POST" and "retry" in request.POST:
        csv_import.retry_import(csv_import=row)
        return redirect("csv_import_detail", slug=request.workspace.slug, import_id=row.pk)
    if request.method == "POST":
        form = MappingForm(row, data=request.POST)
        if form.is_valid():
            try:
                csv_import.start_import(csv_import=row, mapping=form.mapping(), by=request.user)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                return redirect("csv_import_detail", slug=request.workspace.slug, import_id=row.pk)
        return render(
            request, "attribution/csv_import/detail.html", _detail_context(row, form.mapping(), form), status=422
        )
    # A mapping being tried out arrives as a query string; nothing is saved until the import starts.
    mapping = _mapping_from(request.GET, row) if "preview" in request.GET else row.mapping
    if request.htmx and "preview" in request.GET and row.status == CsvImport.Status.UPLOADED:
        return render(request, "attribution/csv_import/detail.html#preview", _detail_context(row, mapping))
    return render(request, "attribution/csv_import/detail.html", _detail_context(row, mapping))


@never_cache
@workspace_member(MANAGERS)
def csv_import_progress(request: WorkspaceRequest, import_id: int) -> HttpResponse:
    row = get_for_workspace_or_404(CsvImport.objects, request.workspace, pk=import_id)
    return render(request, "attribution/csv_import/detail.html#progress", {"import": row})


class _Echo:
    def write(self, value: str) -> str:
        return value


@workspace_member(MANAGERS)
def csv_import_errors(request: WorkspaceRequest, import_id: int) -> StreamingHttpResponse:
    row = get_for_workspace_or_404(CsvImport.objects, request.workspace, pk=import_id)
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(["line", "column", "problem"])
        for error in csv_rows.iter_errors(row):
            yield writer.writerow([error.row, safe_cell(error.column), safe_cell(error.message)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{row.pk}-errors.csv"'
    return response
