"""Finance's payout run pages under /w/<slug>/payouts/runs/: start a run, preview it, execute, follow it,
retry, download the SEPA and PayPal files, confirm. Owners and finance only, like every payout page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from accounts.tenancy import FINANCE, WorkspaceRequest, get_for_workspace_or_404, workspace_member
from reporting.payouts.runs import files, selectors, services
from reporting.payouts.runs.models import PayoutRun, SepaDebtor


class StartRunForm(forms.Form):
    period = forms.TypedChoiceField(label="Statements of the period", coerce=int)

    def __init__(self, *args: Any, periods: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [  # type: ignore[attr-defined]  # a TypedChoiceField
            (p.pk, f"{p.start:%-d %b %Y} – {p.end:%-d %b %Y}" if p.start else f"Up to {p.end:%-d %b %Y}")
            for p in periods
        ]


class SepaDebtorForm(forms.ModelForm):
    class Meta:
        model = SepaDebtor
        fields = ["name", "iban", "bic"]
        labels = {"name": "Account holder", "iban": "IBAN", "bic": "BIC"}
        help_texts = {"name": "Your company's name as the bank knows it."}

    def clean_iban(self) -> str:
        try:
            return str(IBAN(self.cleaned_data["iban"]).compact)
        except SchwiftyException as exc:
            raise ValidationError(
                "This is not a valid IBAN: check the country code, the check digits and the length."
            ) from exc

    def clean_bic(self) -> str:
        try:
            return str(BIC(self.cleaned_data["bic"]))
        except SchwiftyException as exc:
            raise ValidationError("This is not a valid BIC: 8 or 11 letters and digits, such as COBADEFFXXX.") from exc


def _actor(request: WorkspaceRequest) -> services.Actor:
    return services.Actor(user=request.user)


def _run_or_404(request: WorkspaceRequest, payout_run_id: int) -> PayoutRun:
    return get_for_workspace_or_404(PayoutRun.objects, request.workspace, id=payout_run_id)


@workspace_member(FINANCE, methods=("GET", "HEAD", "POST"))
def payout_runs(request: WorkspaceRequest) -> HttpResponse:
    """The runs so far, and the form that starts one (by default for the latest period with statements to pay)."""
    workspace = request.workspace
    periods = selectors.periods_with_payable_statements(workspace)
    form = StartRunForm(request.POST or None, periods=periods, initial={"period": periods[0].pk if periods else None})
    if request.method == "POST" and form.is_valid():
        period = next(p for p in periods if p.pk == form.cleaned_data["period"])
        try:
            run = services.prepare_payout_run(workspace=workspace, period=period, actor=_actor(request))
        except ValidationError as exc:
            form.add_error("period", " ".join(exc.messages))
        else:
            return redirect("payout_run_detail", workspace.slug, run.id)
    debtor = SepaDebtor.objects.filter(workspace=workspace).first()
    context = {
        "form": form,
        "periods": periods,
        "runs": selectors.runs(workspace)[:50],
        "debtor": debtor,
        "debtor_form": SepaDebtorForm(instance=debtor),
    }
    return render(request, "reporting/runs/list.html", context, status=422 if form.errors else 200)


@workspace_member(FINANCE, methods=("POST",))
def payout_runs_bank_account(request: WorkspaceRequest) -> HttpResponse:
    debtor = SepaDebtor.objects.filter(workspace=request.workspace).first()
    form = SepaDebtorForm(request.POST, instance=debtor or SepaDebtor(workspace=request.workspace))
    if form.is_valid():
        form.save()
        messages.success(request, "Bank account for SEPA files saved.")
        return redirect("payout_runs", request.workspace.slug)
    context = {
        "form": StartRunForm(periods=selectors.periods_with_payable_statements(request.workspace)),
        "periods": selectors.periods_with_payable_statements(request.workspace),
        "runs": selectors.runs(request.workspace)[:50],
        "debtor": debtor,
        "debtor_form": form,
    }
    return render(request, "reporting/runs/list.html", context, status=422)


@workspace_member(FINANCE)
def payout_run_detail(request: WorkspaceRequest, payout_run_id: int) -> HttpResponse:
    run = _run_or_404(request, payout_run_id)
    context = {"view": selectors.run_view(run), "run": run}
    template = "reporting/runs/detail.html"
    if request.htmx and not request.htmx.boosted:
        template += "#progress"
    return render(request, template, context)


@workspace_member(FINANCE, methods=("POST",))
def payout_run_execute(request: WorkspaceRequest, payout_run_id: int) -> HttpResponse:
    run = _run_or_404(request, payout_run_id)
    was = run.status
    run = services.execute_payout_run(run=run, actor=_actor(request))
    if was == PayoutRun.Status.DRAFT:
        messages.success(
            request, "Payout run started: Stripe transfers are on their way; bank and PayPal files are ready."
        )
    else:
        messages.info(request, "Failed payments are being tried again. Nothing already paid is paid twice.")
    return redirect("payout_run_detail", request.workspace.slug, run.id)


@workspace_member(FINANCE, methods=("POST",))
def payout_run_confirm(request: WorkspaceRequest, payout_run_id: int) -> HttpResponse:
    run = _run_or_404(request, payout_run_id)
    ids = [int(v) for v in request.POST.getlist("statement") if v.isdigit()]
    confirmed = services.confirm_payout_items(
        run=run, statement_ids=ids, reference=request.POST.get("reference", "")[:120], actor=_actor(request)
    )
    if confirmed:
        messages.success(
            request, f"{len(confirmed)} payment{'s' if len(confirmed) != 1 else ''} confirmed and marked paid."
        )
    else:
        messages.info(request, "Nothing to confirm: tick the payments the bank or PayPal has made.")
    return redirect("payout_run_detail", request.workspace.slug, run.id)


@workspace_member(FINANCE, methods=("POST",))
def payout_run_cancel(request: WorkspaceRequest, payout_run_id: int) -> HttpResponse:
    run = _run_or_404(request, payout_run_id)
    try:
        services.cancel_payout_run(run=run, actor=_actor(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Run cancelled: its unpaid statements can go in a new run.")
    return redirect("payout_run_detail", request.workspace.slug, run.id)


def _file(request: WorkspaceRequest, payout_run_id: int, build: Any, content_type: str, name: str) -> HttpResponse:
    run = _run_or_404(request, payout_run_id)
    try:
        body = build(run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("payout_run_detail", request.workspace.slug, run.id)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="payout-run-{run.id}-{name}"'
    return response


@workspace_member(FINANCE)
def payout_run_sepa(request: WorkspaceRequest, payout_run_id: int) -> HttpResponse:
    return _file(request, payout_run_id, files.sepa_xml, "application/xml", "sepa.xml")


@workspace_member(FINANCE)
def payout_run_paypal(request: WorkspaceRequest, payout_run_id: int) -> HttpResponse:
    return _file(request, payout_run_id, files.paypal_csv, "text/csv; charset=utf-8", "paypal.csv")
