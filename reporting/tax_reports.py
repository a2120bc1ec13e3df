"""`GET /api/v1/reports/1099-nec?year=YYYY`: who a US business must file a Form 1099-NEC for.

US partners (a W-9 on file, or no tax form and a US address) paid at least 600 USD in the calendar
year, counted by the day the payout was paid (UTC). Only USD payouts count: Tandem never converts
currencies silently, and a payout in another currency is not a figure for this form. The TIN is in
full, since the API key is the workspace's own.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from ninja import Router

from accounts.api_platform import ApiError, workspace_of
from accounts.models import Workspace
from core.sealed import unseal
from core.spreadsheets import safe_cell
from partners.models import Partner, TaxForm
from reporting.payouts.models import Payout

router = Router(tags=["reports"])

NEC_THRESHOLD = Decimal("600.00")
HEADER = [
    "partner_id",
    "partner_name",
    "partner_email",
    "tax_form",
    "legal_name",
    "business_name",
    "tin",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "payments",
    "total_paid_usd",
]


@dataclass(frozen=True)
class NecRecipient:
    partner: Partner
    form: TaxForm | None
    payments: int
    total: Decimal

    def row(self) -> list[object]:
        form, partner = self.form, self.partner
        return [
            partner.pk,
            partner.name,
            partner.email,
            form.kind if form else "none",
            form.legal_name if form else "",
            form.business_name if form else "",
            unseal(form.sealed_tin) if form else "",
            form.address_line1 if form else "",
            form.address_line2 if form else "",
            form.city if form else "",
            form.region if form else "",
            form.postal_code if form else "",
            form.country if form else partner.country,
            self.payments,
            f"{self.total:.2f}",
        ]


def nec_recipients(*, workspace: Workspace, year: int) -> list[NecRecipient]:
    """US partners paid at least 600 USD in `year` (by payout paid date, UTC), by name."""
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    paid = (
        Payout.objects.for_workspace(workspace)
        .filter(currency="USD", paid_at__gte=start, paid_at__lt=end)
        .values("partner_id")
        .annotate(total=Sum("amount"), payments=Count("id"))
        .filter(total__gte=NEC_THRESHOLD)
    )
    totals = {row["partner_id"]: (row["total"], row["payments"]) for row in paid}
    forms = {form.partner_id: form for form in TaxForm.objects.for_workspace(workspace).filter(partner_id__in=totals)}
    recipients = []
    for partner in Partner.objects.for_workspace(workspace).filter(pk__in=totals).order_by("name", "pk"):
        form = forms.get(partner.pk)
        us_person = form.kind == TaxForm.Kind.W9 if form else partner.country == "US"
        if us_person:
            total, payments = totals[partner.pk]
            recipients.append(NecRecipient(partner=partner, form=form, payments=payments, total=total))
    return recipients


def _year(raw: str | None) -> int:
    text = (raw or "").strip()
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise ApiError(
            400, "invalid", "Say which tax year: ?year=YYYY.", {"year": ["Send a year such as 2026 (2000–2100)."]}
        )
    return int(text)


# The year is read by hand so that a missing or malformed one is the 400 the contract promises
# (a typed parameter would be ninja's 422); the document still describes it as the integer it is.
_YEAR_DOCUMENTED = {
    "parameters": [
        {
            "in": "query",
            "name": "year",
            "required": True,
            "description": "The tax year, 2000–2100",
            "schema": {"type": "integer", "minimum": 2000, "maximum": 2100},
        }
    ],
    "responses": {
        "400": {
            "description": "`year` missing, or not a year from 2000 to 2100",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    },
}


@router.get(
    "/reports/1099-nec",
    response={200: None},
    openapi_extra=_YEAR_DOCUMENTED,
    summary="Form 1099-NEC recipients of a year (CSV)",
    description=(
        "CSV with a header row: US partners (a W-9 on file, or no tax form and country US) paid at least "
        "600 USD in `year`, by payout paid date (UTC); USD payouts only. Legal name, full TIN and address "
        "come from the partner's W-9; `tax_form` is `none` when the partner has not filed one."
    ),
)
def nec_report(request: HttpRequest) -> HttpResponse:
    tax_year = _year(request.GET.get("year"))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for recipient in nec_recipients(workspace=workspace_of(request), year=tax_year):
        writer.writerow([safe_cell(value) for value in recipient.row()])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="1099-nec-{tax_year}.csv"'
    return response
