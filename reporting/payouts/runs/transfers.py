"""Paying a run's Stripe items: one Stripe Transfer per statement to the partner's connected account.

Each item is recorded as sending (and committed) before its transfer is requested, and the request
carries an idempotency key derived from the statement. Whatever stops us between Stripe's answer and
our commit (a killed worker, a timeout after Stripe accepted), the next try sends the same request
with the same key, Stripe answers the transfer it already made, and the statement is paid once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import stripe
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Workspace
from attribution.integrations.services import settings_for, stripe_secret_key
from core.currency import minor_units, round_money
from partners.payout_methods import payout_methods_for
from reporting.payouts.runs import rules
from reporting.payouts.runs.models import PayoutRun, PayoutRunItem
from reporting.payouts.runs.services import Actor, items_of, record_items_paid, settle_run_status

Item = PayoutRunItem
CHUNK = 50
ACTOR = Actor(label="Stripe transfer")
# Stripe refused the request itself: no transfer was made, so a retry may (and must) use a new key,
# or Stripe would answer the stored refusal again. Anything else (no answer, a 5xx, rate limits)
# leaves the outcome unknown and the key unchanged.
REFUSALS = (stripe.InvalidRequestError, stripe.CardError, stripe.PermissionError, stripe.AuthenticationError)


def stripe_client(secret_key: str) -> stripe.StripeClient:
    """A client with the workspace's key, the API base from STRIPE_API_BASE when set, and a bounded timeout."""
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": base} if base else None,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def amount_in_minor_units(amount: Decimal, currency: str) -> int:
    """1234.50 USD is 123450; 1235 JPY is 1235 (ISO 4217's minor units, as Stripe counts them)."""
    return int(round_money(amount, currency).scaleb(minor_units(currency)))


@dataclass
class Outcome:
    transfer_id: str = ""
    error: str = ""
    refused: bool = False


def send_transfer(client: stripe.StripeClient, item: PayoutRunItem, *, account_id: str) -> Outcome:
    try:
        transfer = client.v1.transfers.create(
            params={
                "amount": amount_in_minor_units(item.amount, item.currency),
                "currency": item.currency.lower(),
                "destination": account_id,
                "transfer_group": f"tandem-payout-run-{item.run_id}",
                "description": f"Statement {item.statement.number}",
                "metadata": {"statement_id": str(item.statement_id), "payout_run_id": str(item.run_id)},
            },
            options={"idempotency_key": item.idempotency_key},
        )
    except REFUSALS as exc:
        return Outcome(error=f"Stripe refused the transfer: {exc.user_message or str(exc)}", refused=True)
    except stripe.StripeError as exc:
        return Outcome(
            error=f"Stripe did not confirm the transfer ({exc.user_message or str(exc) or type(exc).__name__}). "
            "Retrying is safe: Stripe will not pay the same statement twice."
        )
    return Outcome(transfer_id=transfer.id)


@contextmanager
def _run_lock(run: PayoutRun) -> Iterator[bool]:
    """One worker pays a run at a time; the lock goes with the connection if the worker dies."""
    key = int.from_bytes(hashlib.blake2b(f"payout-run:{run.id}".encode(), digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        locked = bool(cursor.fetchone()[0])
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _claim(run: PayoutRun) -> list[PayoutRunItem]:
    """The next Stripe items to send, marked sending and committed before any request leaves."""
    with transaction.atomic():
        items = list(
            items_of(run)
            .select_for_update(skip_locked=True, of=("self",))
            .filter(method=rules.STRIPE_CONNECT, status__in=(Item.Status.PENDING, Item.Status.SENDING))
            .select_related("statement", "workspace")
            .order_by("statement_id")[:CHUNK]
        )
        now = timezone.now()
        fresh = [item.statement_id for item in items if item.status == Item.Status.PENDING]
        items_of(run).filter(statement_id__in=fresh).update(status=Item.Status.SENDING, sent_at=now)
    return items


def _fail(item: PayoutRunItem, message: str, *, refused: bool) -> None:
    changes = {"status": Item.Status.FAILED, "error_message": message}
    attempt = item.attempt + 1 if refused else item.attempt
    PayoutRunItem.objects.filter(
        workspace_id=item.workspace_id, run_id=item.run_id, statement_id=item.statement_id
    ).update(attempt=attempt, **changes)


def pay_stripe_items(*, workspace: Workspace, run_id: int) -> int:
    """Send the run's pending Stripe transfers and record what Stripe answers. Returns the items paid now."""
    run = PayoutRun.objects.filter(workspace=workspace, id=run_id).first()
    if run is None or run.status != PayoutRun.Status.EXECUTING:
        return 0
    paid = 0
    with _run_lock(run) as locked:
        if not locked:
            return 0  # another worker is paying this run
        key = stripe_secret_key(settings_for(workspace))
        client = stripe_client(key) if key else None
        tried: set[int] = set()
        while batch := [item for item in _claim(run) if item.statement_id not in tried]:
            tried.update(item.statement_id for item in batch)
            accounts = payout_methods_for(workspace, {item.partner_id for item in batch})
            outcomes = {}
            for item in batch:
                method = accounts.get(item.partner_id)
                if not item.statement.is_payable:
                    # Marked paid by hand since the run was prepared: sending now could pay it twice.
                    outcomes[item.statement_id] = Outcome(
                        error="This statement was marked paid outside the run: no transfer was sent.", refused=False
                    )
                elif client is None:
                    outcomes[item.statement_id] = Outcome(
                        error="No Stripe secret key is set: add it under Settings → Integrations, then retry.",
                        refused=False,
                    )
                elif method is None or method.type != rules.STRIPE_CONNECT:
                    outcomes[item.statement_id] = Outcome(
                        error="The partner no longer has a Stripe account on file: pay it in a new run.", refused=False
                    )
                else:
                    outcomes[item.statement_id] = send_transfer(client, item, account_id=method.fields["account_id"])
            with transaction.atomic():
                made = [
                    (i, outcomes[i.statement_id].transfer_id) for i in batch if outcomes[i.statement_id].transfer_id
                ]
                paid += record_items_paid(
                    made, reference=f"Stripe transfer, payout run {run.id}", actor=ACTOR, workspace=workspace
                )
                for item in batch:
                    outcome = outcomes[item.statement_id]
                    if not outcome.transfer_id:
                        _fail(item, outcome.error, refused=outcome.refused)
        settle_run_status(run)
    return paid
