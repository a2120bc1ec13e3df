"""Staff pages for outbound webhooks (owners and managers): endpoints, their delivery logs, resend."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.outbound import services
from accounts.outbound.events import EVENT_TYPES
from accounts.outbound.forms import EndpointForm, EventsForm
from accounts.outbound.models import WebhookDelivery, WebhookEndpoint
from accounts.tenancy import MANAGERS, WorkspaceRequest, get_for_workspace_or_404, workspace_member

WRITE = ("GET", "HEAD", "POST")
POST = ("POST",)


def _endpoint(request: WorkspaceRequest, endpoint_id: str) -> WebhookEndpoint:
    return get_for_workspace_or_404(WebhookEndpoint.objects, request.workspace, id=endpoint_id)


def _form_errors(form: EndpointForm | EventsForm, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@workspace_member(MANAGERS, methods=WRITE)
def endpoints(request: WorkspaceRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_endpoint(workspace=request.workspace, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            form = EndpointForm()
    rows = WebhookEndpoint.objects.for_workspace(request.workspace)
    context = {"form": form, "endpoints": rows, "created": created, "event_types": EVENT_TYPES}
    return render(request, "accounts/outbound/endpoints.html", context, status=422 if form.errors else 200)


@workspace_member(MANAGERS, methods=WRITE)
def endpoint_detail(request: WorkspaceRequest, endpoint_id: str) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    form = EventsForm(request.POST or None, initial={"events": endpoint.events})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_endpoint(endpoint=endpoint, by=request.user, events=form.cleaned_data["events"])
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Events saved.")
            return redirect("webhook_endpoint", slug=request.workspace.slug, endpoint_id=endpoint.id)
    deliveries = WebhookDelivery.objects.for_workspace(request.workspace).filter(endpoint_id=endpoint.id)
    page = Paginator(deliveries, 25).get_page(request.GET.get("page"))
    context = {"endpoint": endpoint, "form": form, "page": page, "event_types": EVENT_TYPES}
    return render(request, "accounts/outbound/endpoint.html", context, status=422 if form.errors else 200)


@workspace_member(MANAGERS, methods=POST)
def toggle_endpoint(request: WorkspaceRequest, endpoint_id: str) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    turn_on = not endpoint.enabled
    services.update_endpoint(endpoint=endpoint, by=request.user, enabled=turn_on)
    messages.success(request, "Sending is on again." if turn_on else "Sending is off; events are not recorded for it.")
    return redirect("webhook_endpoint", slug=request.workspace.slug, endpoint_id=endpoint.id)


@workspace_member(MANAGERS, methods=POST)
def delete_endpoint(request: WorkspaceRequest, endpoint_id: str) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    services.delete_endpoint(endpoint=endpoint, by=request.user)
    messages.success(request, f"{endpoint.url} removed, with its delivery log.")
    return redirect("webhook_endpoints", slug=request.workspace.slug)


@workspace_member(MANAGERS, methods=POST)
def resend_delivery(request: WorkspaceRequest, endpoint_id: str, delivery_id: str) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    delivery = get_for_workspace_or_404(
        WebhookDelivery.objects.filter(endpoint_id=endpoint.id), request.workspace, id=delivery_id
    )
    services.resend_delivery(delivery=delivery, by=request.user)
    if endpoint.enabled:
        messages.success(request, f"{delivery.event_type} is being sent again.")
    else:
        messages.error(request, "Sending is off for this endpoint: turn it on, then resend.")
    return redirect("webhook_endpoint", slug=request.workspace.slug, endpoint_id=endpoint.id)
