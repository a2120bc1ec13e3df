"""The managers' fraud review pages: the queue (clear or reject in bulk), flagged partners, settings;
and the partner's one reply on a held commission (portal)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.tenancy import ANY_STAFF, MANAGERS, WorkspaceRequest, workspace_member
from attribution import selectors
from attribution.fraud import review
from attribution.fraud.forms import FlagForm, FraudSettingsForm, ReplyForm, ReviewDecisionForm, ReviewFilterForm
from attribution.fraud.queue import flagged_ids, flagged_partners, replies_of, review_queue
from attribution.fraud.settings import Rules, fraud_settings_for, update_fraud_settings
from attribution.fraud.signals import SIGNALS
from partners import selectors as partner_selectors
from partners.models import Partner, Program
from partners.portal import PartnerRequest, partner_member

POST = ("POST",)
PAGE_SIZE = 50


def _filters(request: WorkspaceRequest, query: QueryDict) -> tuple[ReviewFilterForm, dict[str, object]]:
    form = ReviewFilterForm(query or None, workspace=request.workspace)
    return form, (form.cleaned_data if form.is_valid() else {})


@workspace_member(ANY_STAFF)
def review_queue_page(request: WorkspaceRequest) -> HttpResponse:
    """Commissions held for review, riskiest first, with their reasons and the partners' replies."""
    workspace = request.workspace
    form, data = _filters(request, request.GET)
    page = Paginator(review_queue(workspace, data), PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [c.pk for c in page.object_list]
    replies = replies_of(workspace, ids)
    flagged = flagged_ids(workspace, [c.partner_id for c in page.object_list])
    for c in page.object_list:
        c.reply = replies.get(c.pk)  # type: ignore[attr-defined]
        c.partner_flagged = c.partner_id in flagged  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": any(v not in (None, "") for v in data.values()),
        "can_manage": request.membership.role in MANAGERS,
        "flagged": flagged_partners(workspace),
        "flag_form": FlagForm(workspace=workspace),
        "settings_program": Program.objects.for_workspace(workspace)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first(),
    }
    template = "attribution/fraud/review.html#rows" if request.htmx else "attribution/fraud/review.html"
    return render(request, template, context)


@workspace_member(MANAGERS, methods=POST)
def review_decide(request: WorkspaceRequest) -> HttpResponse:
    """Clear (back to pending, or approved if the hold ended) or reject the selected held commissions."""
    workspace = request.workspace
    back_query = request.POST.get("back", "")
    back = reverse("fraud_review", args=[workspace.slug]) + (f"?{back_query}" if back_query else "")
    data = request.POST.copy()
    if data.get("scope") == "matching":
        _, filters = _filters(request, QueryDict(back_query))
        data.setlist("ids", [str(pk) for pk in review_queue(workspace, filters).values_list("pk", flat=True)])
    form = ReviewDecisionForm(data)
    if not form.is_valid():
        errors = form.errors
        messages.error(
            request,
            "Select the commissions first."
            if "ids" in errors
            else " ".join(str(e) for errs in errors.values() for e in errs),
        )
        return redirect(back)
    ids, reason = form.cleaned_data["ids"], form.cleaned_data["reason"]
    if form.cleaned_data["action"] == "clear":
        done = review.clear_commissions(workspace=workspace, ids=ids, note=reason, by=request.user)
        verb = "cleared"
    else:
        done = review.reject_held_commissions(workspace=workspace, ids=ids, reason=reason, by=request.user)
        verb = "rejected"
    text = f"{len(done)} commission{'s' if len(done) != 1 else ''} {verb}."
    skipped = len(set(ids)) - len(done)
    if skipped:
        text += f" {skipped} skipped: no longer under review."
    messages.success(request, text)
    return redirect(back)


@workspace_member(MANAGERS, methods=POST)
def partner_flag(request: WorkspaceRequest) -> HttpResponse:
    """Put a partner under review (its new commissions are held, payouts skip it), or take it off."""
    workspace = request.workspace
    back = request.POST.get("next") or reverse("fraud_review", args=[workspace.slug])
    if not back.startswith("/"):
        back = reverse("fraud_review", args=[workspace.slug])
    form = FlagForm(request.POST, workspace=workspace)
    if not form.is_valid():
        messages.error(request, "Choose a partner of this workspace.")
        return redirect(back)
    partner: Partner = form.cleaned_data["partner"]
    if request.POST.get("action") == "unflag":
        if review.unflag_partner(workspace=workspace, partner=partner, by=request.user):
            messages.success(
                request, f"{partner.name} is no longer under review. Held commissions stay held until you decide."
            )
    else:
        review.flag_partner(workspace=workspace, partner=partner, reason=form.cleaned_data["reason"], by=request.user)
        messages.success(
            request, f"{partner.name} is under review: their new commissions are held and payouts skip them."
        )
    return redirect(back)


@workspace_member(MANAGERS, methods=("GET", "HEAD", "POST"))
def fraud_settings(request: WorkspaceRequest, program_id: int) -> HttpResponse:
    """A program's review threshold and each signal's points and threshold."""
    workspace = request.workspace
    program = partner_selectors.get_program_or_404(workspace, program_id)
    row = fraud_settings_for(program)
    rules = Rules.of(row)
    form = FraudSettingsForm(request.POST or None, rules=rules)
    if request.method == "POST" and form.is_valid():
        update_fraud_settings(
            workspace=workspace,
            program=program,
            review_threshold=form.cleaned_data["review_threshold"],
            weights=form.weights(),
            thresholds=form.thresholds(),
            by=request.user,
        )
        messages.success(request, f"Fraud settings of {program.name} saved. They apply to new commissions.")
        return redirect(reverse("fraud_settings", args=[workspace.slug, program.pk]))
    programs = Program.objects.for_workspace(workspace).order_by("name")
    return render(
        request,
        "attribution/fraud/settings.html",
        {"form": form, "program": program, "programs": programs, "signals": SIGNALS},
    )


@partner_member(methods=POST)
def portal_review_reply(request: PartnerRequest, commission_id: int) -> HttpResponse:
    """The partner explains a held commission, once."""
    commission = selectors.get_commission_or_404(request.workspace, commission_id, partner=request.partner)
    back = reverse("portal_commission_detail", args=[request.workspace.slug, commission.pk])
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(back)
    try:
        review.reply_to_review(
            workspace=request.workspace, commission=commission, message=form.cleaned_data["message"], by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, "Thanks: your explanation was sent to the team.")
    return redirect(back)
