"""The partners' days of sales and refunds (ConversionDay), which the fraud signals read.

PostgreSQL's triggers keep them equal to the conversions whoever writes those, and the fold makes
each day one row without losing or doubling anything, even beside a set still open or another fold.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction

from attribution.fraud.days import _FOLD, daily_conversions, fold_conversion_days
from attribution.models import Conversion, ConversionDay
from tests.attribution.factories import ConversionFactory
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 10, 12, tzinfo=UTC)


def days_of(workspace) -> dict[tuple[int, object], tuple[int, Decimal, int, Decimal]]:
    """(partner, day) → sales, sold, refunds, refunded, summed over the day's rows."""
    found: dict = defaultdict(lambda: [0, Decimal(0), 0, Decimal(0)])
    for row in ConversionDay.objects.filter(workspace=workspace):
        totals = found[(row.partner_id, row.day)]
        totals[0] += row.sales
        totals[1] += row.sold
        totals[2] += row.refunds
        totals[3] += row.refunded
    return {key: tuple(v) for key, v in found.items() if any(v)}


def counted(workspace) -> dict[tuple[int, object], tuple[int, Decimal, int, Decimal]]:
    """The same, counted from the conversions themselves."""
    found: dict = defaultdict(lambda: [0, Decimal(0), 0, Decimal(0)])
    for conversion in Conversion.objects.filter(workspace=workspace):
        totals = found[(conversion.partner_id, conversion.occurred_at.astimezone(UTC).date())]
        i = 0 if conversion.kind == Conversion.Kind.SALE else 2
        totals[i] += 1
        totals[i + 1] += conversion.amount
    return {key: tuple(v) for key, v in found.items()}


def test_the_days_add_up_to_the_conversions_however_they_are_written(workspace):
    referrals = [ReferralFactory(workspace=workspace) for _ in range(3)]
    made: list[Conversion] = []
    for _n in range(60):
        referral = random.choice(referrals)
        at = DAY + timedelta(hours=random.randrange(-72, 72))
        if made and random.random() < 0.3:
            sale = random.choice([c for c in made if c.kind == Conversion.Kind.SALE])
            made.append(
                ConversionFactory(
                    workspace=workspace,
                    referral=sale.referral,
                    kind=Conversion.Kind.REFUND,
                    sale=sale,
                    amount=Decimal(random.randrange(1, 5000)) / 100,
                    occurred_at=at,
                )
            )
        else:
            made.append(
                ConversionFactory(
                    workspace=workspace,
                    referral=referral,
                    amount=Decimal(random.randrange(100, 90000)) / 100,
                    occurred_at=at,
                )
            )
    # Changed one by one, several at once, and deleted (a refund before its sale).
    moved = made[-1]
    moved.occurred_at += timedelta(days=2)
    moved.amount += Decimal("3.33")
    moved.save()
    Conversion.objects.filter(workspace=workspace, kind=Conversion.Kind.SALE, occurred_at__lt=DAY).update(
        amount=Decimal("7.77")
    )
    refunds = list(Conversion.objects.filter(workspace=workspace, kind=Conversion.Kind.REFUND)[:2])
    Conversion.objects.filter(pk__in=[r.pk for r in refunds]).delete()

    assert days_of(workspace) == counted(workspace)
    assert ConversionDay.objects.filter(workspace=workspace).count() > len(counted(workspace))


def test_a_fold_leaves_one_row_per_partner_and_day_with_the_same_sums(workspace, other_workspace):
    for ws in (workspace, other_workspace):
        referral = ReferralFactory(workspace=ws)
        for hours in (0, 1, 2, 30, 31):
            ConversionFactory(
                workspace=ws, referral=referral, amount=Decimal("10.50"), occurred_at=DAY + timedelta(hours=hours)
            )
    gone = ConversionFactory(workspace=workspace, referral=referral, occurred_at=DAY + timedelta(days=5))
    gone.delete()  # a day whose additions cancel out
    before = {ws.pk: days_of(ws) for ws in (workspace, other_workspace)}

    assert fold_conversion_days(days_at_once=2) == 5  # two days of each workspace, and the cancelled one

    for ws in (workspace, other_workspace):
        assert days_of(ws) == before[ws.pk]
        rows = list(ConversionDay.objects.filter(workspace=ws).values_list("partner_id", "day", "folded"))
        assert len(rows) == len(set(rows)) == 2
        assert all(folded for _, _, folded in rows)
    assert fold_conversion_days() == 0  # nothing new to fold


def test_the_fraud_signals_read_the_same_days_before_and_after_a_fold(workspace):
    referral = ReferralFactory(workspace=workspace)
    for day in range(10):
        for _n in range(day % 3 + 1):
            ConversionFactory(
                workspace=workspace, referral=referral, amount=Decimal("20"), occurred_at=DAY - timedelta(days=day)
            )
    sale = Conversion.objects.filter(workspace=workspace).first()
    ConversionFactory(
        workspace=workspace,
        referral=referral,
        kind=Conversion.Kind.REFUND,
        sale=sale,
        amount=Decimal("5"),
        occurred_at=DAY,
    )

    def series():
        found = daily_conversions(workspace.pk, {referral.partner_id}, [DAY.date()]).partners[referral.partner_id]
        return found.daily, found.sales[-1], found.sold[-1], found.refunds[-1], found.refunded[-1]

    before = series()
    assert before[1:] == (19, 380.0, 1, 5.0)
    assert before[0][-10:] == [n % 3 + 1 for n in reversed(range(10))]
    fold_conversion_days()
    assert series() == before


def _in_thread(work) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_fold_beside_a_set_still_open_loses_none_of_its_sales(workspace):
    referral = ReferralFactory(workspace=workspace)
    ConversionFactory(workspace=workspace, referral=referral, amount=Decimal("1"), occurred_at=DAY)
    inserted, release = threading.Event(), threading.Event()

    def open_set() -> None:
        with transaction.atomic():
            ConversionFactory(workspace=workspace, referral=referral, amount=Decimal("2"), occurred_at=DAY)
            inserted.set()
            release.wait(10)

    thread = _in_thread(open_set)
    assert inserted.wait(10)
    fold_conversion_days()  # does not see the open set's row, and does not wait for it
    release.set()
    thread.join(10)

    assert (
        days_of(workspace) == counted(workspace) == {(referral.partner_id, DAY.date()): (2, Decimal(3), 0, Decimal(0))}
    )
    fold_conversion_days()
    assert ConversionDay.objects.filter(workspace=workspace).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_folds_at_once_count_nothing_twice(workspace):
    referral = ReferralFactory(workspace=workspace)
    for _n in range(4):
        ConversionFactory(workspace=workspace, referral=referral, amount=Decimal("2.5"), occurred_at=DAY)
    folding, release = threading.Event(), threading.Event()

    def slow_fold() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_FOLD, [100])
            folding.set()
            release.wait(10)

    thread = _in_thread(slow_fold)
    assert folding.wait(10)
    second = _in_thread(fold_conversion_days)  # waits for the first fold's rows
    release.set()
    thread.join(10)
    second.join(10)

    assert (
        days_of(workspace) == counted(workspace) == {(referral.partner_id, DAY.date()): (4, Decimal(10), 0, Decimal(0))}
    )
