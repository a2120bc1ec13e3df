"""Set-based writes of referrals, for callers that settle thousands of customers at once (the
attribution app's inbox processor, one statement per set).

The same rules as the one-row services in referrals.services (lower-case email, company domain,
first conversion only), for a set of rows at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from core.privacy import customer_for_partner
from core.sql import insert_rows
from partners.notifications.models import Kind
from partners.notifications.sending import NotifyItem, notify_partners
from referrals.models import Referral
from referrals.outbound import emit_referrals_created, referral_data
from referrals.services import email_domain


@dataclass
class NewReferral:
    program_id: int
    partner_id: int
    customer_external_id: str
    source: str
    customer_email: str = ""
    click_id: int | None = None
    code_id: int | None = None
    created_at: datetime | None = None  # when the lead happened; a backfilled lead counts on its own day


def create_referrals(*, workspace_id: int, rows: Sequence[NewReferral]) -> dict[tuple[int, str], int]:
    """Insert referrals; returns {(program_id, customer_external_id): id} of those this call created.

    A customer another transaction made a referral of meanwhile is skipped (the unique constraint
    decides), and is missing from the answer: the caller reads that referral instead. Rows go in
    sorted order so two transactions creating overlapping customers wait rather than deadlock.
    """
    ordered = sorted(rows, key=lambda r: (r.program_id, r.customer_external_id))
    inserted = insert_rows(
        Referral,
        [
            {
                "workspace_id": workspace_id,
                "program_id": r.program_id,
                "partner_id": r.partner_id,
                "customer_external_id": r.customer_external_id,
                "customer_email": r.customer_email.lower(),
                "customer_domain": email_domain(r.customer_email) if r.customer_email else "",
                "source": r.source,
                "stage": Referral.Stage.LEAD,
                "click_id": r.click_id,
                "code_id": r.code_id,
                **({"created_at": r.created_at} if r.created_at else {}),
            }
            for r in ordered
        ],
        ignore_conflicts=True,
        returning=("id", "program_id", "customer_external_id"),
    )
    created = {(program_id, customer): pk for pk, program_id, customer in inserted}
    emit_referrals_created(
        workspace_id,
        [
            referral_data(
                referral_id=created[(r.program_id, r.customer_external_id)],
                partner_id=r.partner_id,
                program_id=r.program_id,
                customer_external_id=r.customer_external_id,
                source=r.source,
                created_at=r.created_at,
            )
            for r in ordered
            if (r.program_id, r.customer_external_id) in created
        ],
    )
    _tell_partners(workspace_id=workspace_id, rows=ordered, created=created)
    return created


# How the new-referral email says the customer came ("… signed up through your link").
_THROUGH: dict[str, str] = {
    Referral.Source.LINK: "your link",
    Referral.Source.CODE: "your referral code",
    Referral.Source.DEAL_REGISTRATION: "your registered deal",
    Referral.Source.MANUAL: "you (credited by the program's manager)",
}


def _tell_partners(*, workspace_id: int, rows: Sequence[NewReferral], created: dict[tuple[int, str], int]) -> None:
    """One new-referral email per referral this call created (one insert for the set, sent after the commit)."""
    items = [
        NotifyItem(
            partner_id=r.partner_id,
            object_key=f"referral:{created[(r.program_id, r.customer_external_id)]}",
            details={
                "customer": customer_for_partner(
                    {"customer_email": r.customer_email, "customer_external_id": r.customer_external_id}
                ),
                "source": _THROUGH.get(r.source, "you"),
            },
        )
        for r in rows
        if (r.program_id, r.customer_external_id) in created
    ]
    notify_partners(workspace_id=workspace_id, kind=Kind.NEW_REFERRAL, items=items)


def bind_deal_referral(*, workspace_id: int, referral_id: int, customer_external_id: str, customer_email: str) -> bool:
    """A registered deal's customer has arrived: its referral takes the tenant's customer id.

    False if the referral was bound meanwhile (another event of the same customer won).
    """
    updated = Referral.objects.filter(workspace_id=workspace_id, pk=referral_id, customer_external_id="").update(
        customer_external_id=customer_external_id,
    )
    if updated and customer_email:
        Referral.objects.filter(workspace_id=workspace_id, pk=referral_id, customer_email="").update(
            customer_email=customer_email.lower(),
        )
    return bool(updated)


_MARK_CONVERTED = """
WITH firsts AS (
    SELECT r.id, v.at
    FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at)
    JOIN referrals_referral r ON r.id = v.id
    WHERE r.workspace_id = %s AND r.converted_at IS NULL
    ORDER BY r.id
    FOR UPDATE OF r
)
UPDATE referrals_referral AS t SET converted_at = firsts.at, stage = %s
FROM firsts WHERE t.id = firsts.id AND t.converted_at IS NULL
RETURNING t.id
"""


def mark_referrals_converted(*, workspace_id: int, first_sales: dict[int, datetime]) -> set[int]:
    """Referrals whose customer bought for the first time become customers; returns those this call
    converted. Rows are locked in id order, so concurrent batches wait for each other, never deadlock;
    a referral another batch converted first keeps that batch's time.
    """
    if not first_sales:
        return set()
    ids = sorted(first_sales)
    with connection.cursor() as cursor:
        cursor.execute(_MARK_CONVERTED, [ids, [first_sales[i] for i in ids], workspace_id, Referral.Stage.CUSTOMER])
        return {row[0] for row in cursor.fetchall()}
