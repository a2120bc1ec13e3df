"""The rollups read the upstream apps through the names those apps export: each commission status
lands in its own total, and no upstream table name or choice value is spelled in the rollup SQL."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Sum

from attribution.models import Commission
from reporting import rollups
from reporting.rollups.models import DailyRollup
from tests.partners.factories import PartnerFactory
from tests.reporting.payout_helpers import earn, refund

DAY = "2026-11-02"


@pytest.mark.django_db
def test_each_commission_status_lands_in_its_own_total(workspace):
    partner = PartnerFactory(workspace=workspace)
    earn(partner, "1.00", on=DAY, status=Commission.Status.PENDING)
    approved = earn(partner, "2.00", on=DAY, status=Commission.Status.APPROVED)
    earn(partner, "4.00", on=DAY, status=Commission.Status.PAID)
    earn(partner, "8.00", on=DAY, status=Commission.Status.REJECTED)
    refunded = earn(partner, "16.00", on=DAY, status=Commission.Status.APPROVED)
    refund(approved, "0.50", on=DAY)
    refund(refunded, "16.00", on=DAY)  # taken back whole: the commission becomes reversed
    refunded.refresh_from_db()
    assert refunded.status == Commission.Status.REVERSED

    day = dt.date.fromisoformat(DAY)
    rollups.refresh_days(workspace_id=workspace.pk, dates=[day])
    totals = DailyRollup.objects.filter(workspace=workspace, day=day).aggregate(
        sales=Sum("sales"),
        refunds=Sum("refunds"),
        pending=Sum("commission_pending"),
        approved=Sum("commission_approved"),
        paid=Sum("commission_paid"),
        rejected=Sum("commission_rejected"),
        reversed=Sum("commission_reversed"),
        net=Sum("commission_net"),
    )

    assert totals == {
        "sales": 5,
        "refunds": 2,
        "pending": Decimal("1.00"),
        "approved": Decimal("1.50"),  # net of its partial reversal
        "paid": Decimal("4.00"),
        "rejected": Decimal("8.00"),  # at its full amount
        "reversed": Decimal("16.50"),
        "net": Decimal("6.50"),  # 1 + 2 + 4 + 16 earned, less 16.50 taken back; the rejected 8 never counts
    }


def test_the_rollup_sql_names_no_upstream_table_or_choice_value():
    package = Path(rollups.__file__).parent
    upstream_names = re.compile(
        r"\b(referrals|attribution|partners)_[a-z]+\b|'(sale|refund|pending|approved|paid|"
        r"rejected|reversed|link|lead|attributed)'"
    )
    for module in package.glob("*.py"):
        if module.name == "upstream.py":
            continue  # where the names are taken from the models
        found = upstream_names.search(module.read_text())
        assert found is None, f"{module.name} spells {found.group(0)}: take it from reporting/rollups/upstream.py"
