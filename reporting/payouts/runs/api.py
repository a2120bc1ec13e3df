"""The payout runs endpoints of /api/v1/: prepare a run, execute it, confirm file payments, get the SEPA file."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from accounts.api_platform import ApiError, actor_label, get_or_404, workspace_of
from core.currency import plain_amount
from reporting.payouts import selectors
from reporting.payouts.runs import files, services
from reporting.payouts.runs.models import PayoutRun, PayoutRunItem

router = Router(tags=["payout runs"])


class RunIn(Schema):
    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(
        default=None,
        max_length=20,
        description="The period whose issued and approved statements to pay: its id (e.g. `12`) or end date "
        "(`2026-10-31`). Leave out when naming `statement_ids`.",
    )
    statement_ids: list[int] | None = Field(
        default=None, max_length=10_000, description="The statements to pay, instead of a whole period."
    )


class ConfirmIn(Schema):
    model_config = ConfigDict(extra="forbid")

    statement_ids: list[int] | None = Field(
        default=None,
        max_length=10_000,
        description="The items (by statement id) the bank or PayPal paid; leave out to confirm every waiting item.",
    )
    reference: str = Field(default="", max_length=120, description="The bank's or PayPal's reference, if any")


class ItemOut(Schema):
    statement_id: int
    partner_id: int
    amount: str
    currency: str
    method: str | None
    status: str
    blocked_reason: str | None
    reference: str | None
    error: str | None


class RunOut(Schema):
    id: int
    status: str
    period_id: int | None
    created_at: str
    executed_at: str | None
    finished_at: str | None
    items: list[ItemOut]


def item_out(item: PayoutRunItem) -> dict[str, Any]:
    return {
        "statement_id": item.statement_id,
        "partner_id": item.partner_id,
        "amount": plain_amount(item.amount, item.currency),
        "currency": item.currency,
        "method": item.method or None,
        "status": item.status,
        "blocked_reason": item.blocked_reason or None,
        "reference": item.reference or None,
        "error": item.error_message or None,
    }


def run_out(run: PayoutRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "period_id": run.period_id,
        "created_at": run.created_at.isoformat(),
        "executed_at": run.executed_at.isoformat() if run.executed_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "items": [item_out(item) for item in services.items_of(run).order_by("statement_id")],
    }


def _invalid(exc: ValidationError) -> ApiError:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {}
    return ApiError(422, "invalid", " ".join(exc.messages), fields)


def _run(request: HttpRequest, payout_run_id: int) -> PayoutRun:
    return get_or_404(request, PayoutRun.objects, id=payout_run_id)


def _actor(request: HttpRequest) -> services.Actor:
    return services.Actor(label=actor_label(request))


@router.post(
    "/payout-runs",
    response={201: RunOut},
    summary="Prepare a payout run (a preview: nothing is paid until it is executed)",
    description=(
        "Takes the issued and approved statements of `period`, or the statements named by `statement_ids`, and "
        "answers how each would be paid. An item that cannot be paid is `blocked`, with `blocked_reason` in plain "
        "words: no payout method, under fraud review, no tax form while the program requires one, below the "
        "program minimum, a currency the method cannot pay (SEPA is euros only; nothing is converted), or the "
        "statement already being in another run."
    ),
)
def prepare_run(request: HttpRequest, payload: RunIn) -> Status:
    workspace = workspace_of(request)
    if (payload.period is None) == (payload.statement_ids is None):
        message = "Send either period or statement_ids."
        raise ApiError(422, "invalid", message, {"period": [message], "statement_ids": [message]})
    period = None
    if payload.period is not None:
        period = selectors.find_period(workspace, payload.period)
        if period is None:
            raise ApiError(
                422,
                "invalid",
                "There is no period with that id or end date.",
                {"period": ["Use a period id or its end date as YYYY-MM-DD."]},
            )
    try:
        run = services.prepare_payout_run(
            workspace=workspace, period=period, statement_ids=payload.statement_ids, actor=_actor(request)
        )
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return Status(201, run_out(run))


@router.get("/payout-runs/{int:payout_run_id}", response=RunOut, summary="A payout run and where each payment stands")
def get_run(request: HttpRequest, payout_run_id: int) -> dict[str, Any]:
    return run_out(_run(request, payout_run_id))


@router.post(
    "/payout-runs/{int:payout_run_id}/execute",
    response=RunOut,
    summary="Execute a payout run (again: retries what failed, pays nothing twice)",
    description=(
        "Stripe items are paid by Stripe Transfer in the background (`sending`, then `paid` or `failed` with "
        "Stripe's message); SEPA, PayPal and manual items wait for confirmation (`awaiting_confirmation`). "
        "Executing again retries failed transfers with the same idempotency key and never pays a statement twice."
    ),
)
def execute_run(request: HttpRequest, payout_run_id: int) -> dict[str, Any]:
    run = services.execute_payout_run(run=_run(request, payout_run_id), actor=_actor(request))
    return run_out(run)


@router.post(
    "/payout-runs/{int:payout_run_id}/confirm",
    response=RunOut,
    summary="Confirm that the SEPA file, the PayPal batch or manual payments were paid",
)
def confirm_run(request: HttpRequest, payout_run_id: int, payload: ConfirmIn) -> dict[str, Any]:
    run = _run(request, payout_run_id)
    if run.status == PayoutRun.Status.DRAFT:
        raise ApiError(409, "not_executed", "Execute the run before confirming its payments.")
    services.confirm_payout_items(
        run=run, statement_ids=payload.statement_ids, reference=payload.reference, actor=_actor(request)
    )
    return run_out(_run(request, payout_run_id))


def _file_response(request: HttpRequest, payout_run_id: int, build: Any, content_type: str, name: str) -> HttpResponse:
    run = _run(request, payout_run_id)
    try:
        body = build(run)
    except ValidationError as exc:
        raise ApiError(409, "file_unavailable", " ".join(exc.messages)) from exc
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="payout-run-{run.id}-{name}"'
    return response


@router.get(
    "/payout-runs/{int:payout_run_id}/sepa.xml",
    response={200: None},
    summary="The run's SEPA credit transfer file (pain.001.001.03) for the bank",
)
def get_sepa_file(request: HttpRequest, payout_run_id: int) -> HttpResponse:
    return _file_response(request, payout_run_id, files.sepa_xml, "application/xml", "sepa.xml")


@router.get(
    "/payout-runs/{int:payout_run_id}/paypal.csv",
    response={200: None},
    summary="The run's PayPal Payouts batch (CSV, PayPal's mass-payment layout)",
)
def get_paypal_file(request: HttpRequest, payout_run_id: int) -> HttpResponse:
    return _file_response(request, payout_run_id, files.paypal_csv, "text/csv; charset=utf-8", "paypal.csv")
