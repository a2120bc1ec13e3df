from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from partners.models import PartnerUser
from reporting.payouts.models import PayoutPeriod, Statement
from reporting.payouts.statements import close_payout_period
from tests.partners.factories import PartnerFactory, with_payout_method
from tests.reporting.isolation_payouts import foreign_statement
from tests.reporting.payout_helpers import earn


@pytest.fixture
def period(workspace):
    for name in ("Alpha Agency", "Beta Blog"):
        earn(
            with_payout_method(
                PartnerFactory(workspace=workspace, name=name), "paypal", email=f"{name[:4]}@pay.example"
            ),
            "25.00",
        )
    return close_payout_period(workspace=workspace, end=date(2026, 9, 30), today=date(2026, 11, 24)).period


@pytest.fixture
def statement(period):
    return period.statements.order_by("pk").first()


def test_finance_sees_the_periods_with_totals_and_a_proposed_end(finance_client, workspace, period):
    response = finance_client.get(f"/w/{workspace.slug}/payouts/")

    assert response.status_code == 200
    assert b"50.00 USD" in response.content
    assert response.context["form"]["end"].initial is not None


def test_closing_a_period_from_the_form_issues_statements_and_shows_the_period(finance_client, workspace):
    earn(PartnerFactory(workspace=workspace), "30.00")

    response = finance_client.post(f"/w/{workspace.slug}/payouts/", {"end": "2026-09-30"})

    period = PayoutPeriod.objects.get(workspace=workspace)
    assert response.status_code == 302 and response["Location"] == f"/w/{workspace.slug}/payouts/periods/{period.pk}/"
    assert period.statements.count() == 1


def test_closing_the_same_end_again_from_the_form_lands_on_the_same_period(finance_client, workspace, period):
    response = finance_client.post(f"/w/{workspace.slug}/payouts/", {"end": "2026-09-30"})

    assert response["Location"] == f"/w/{workspace.slug}/payouts/periods/{period.pk}/"
    assert PayoutPeriod.objects.filter(workspace=workspace).count() == 1


def test_an_overlapping_end_is_an_error_next_to_the_field(finance_client, workspace, period):
    response = finance_client.post(f"/w/{workspace.slug}/payouts/", {"end": "2026-08-31"})

    assert response.status_code == 422
    assert "cannot overlap" in str(response.context["form"].errors["end"])


@pytest.mark.parametrize("role_client", ["manager_client", "viewer_client"])
def test_managers_and_viewers_may_not_see_payouts(request, role_client, workspace, period, statement):
    client = request.getfixturevalue(role_client)

    for url in (
        f"/w/{workspace.slug}/payouts/",
        f"/w/{workspace.slug}/payouts/periods/{period.pk}/",
        f"/w/{workspace.slug}/payouts/statements/{statement.pk}/pdf/",
    ):
        assert client.get(url).status_code == 403


def test_the_owner_may_use_payouts(owner_client, workspace, period):
    assert owner_client.get(f"/w/{workspace.slug}/payouts/periods/{period.pk}/").status_code == 200


def test_the_period_page_lists_its_statements_with_pdf_links(finance_client, workspace, period, statement):
    response = finance_client.get(f"/w/{workspace.slug}/payouts/periods/{period.pk}/")

    assert b"Alpha Agency" in response.content and b"Beta Blog" in response.content
    assert f"/payouts/statements/{statement.pk}/pdf/".encode() in response.content


def test_bulk_mark_paid_pays_the_checked_statements(finance_client, workspace, period, statement):
    response = finance_client.post(
        f"/w/{workspace.slug}/payouts/periods/{period.pk}/mark-paid/", {"statement": [statement.pk]}
    )

    assert response.status_code == 302
    assert dict(period.statements.values_list("pk", "status"))[statement.pk] == "paid"
    assert period.statements.filter(status="issued").count() == 1


def test_bulk_mark_paid_over_htmx_answers_the_statements_partial(finance_client, workspace, period, statement):
    response = finance_client.post(
        f"/w/{workspace.slug}/payouts/periods/{period.pk}/mark-paid/",
        {"statement": [statement.pk]},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert b"<html" not in response.content and b"Marked 1 statement paid" in response.content


def test_bulk_mark_paid_ignores_statements_of_another_workspace(finance_client, workspace, other_workspace, period):
    stranger = foreign_statement(other_workspace)

    finance_client.post(f"/w/{workspace.slug}/payouts/periods/{period.pk}/mark-paid/", {"statement": [stranger.pk]})

    assert Statement.objects.get(pk=stranger.pk).status == "issued"


def test_the_statement_page_shows_lines_and_marks_paid(finance_client, workspace, statement):
    page = finance_client.get(f"/w/{workspace.slug}/payouts/statements/{statement.pk}/")
    assert page.status_code == 200 and statement.ledger_hash.encode() in page.content

    finance_client.post(f"/w/{workspace.slug}/payouts/statements/{statement.pk}/mark-paid/")

    assert Statement.objects.get(pk=statement.pk).status == "paid"


def test_finance_downloads_a_statement_pdf(finance_client, workspace, statement):
    response = finance_client.get(f"/w/{workspace.slug}/payouts/statements/{statement.pk}/pdf/")

    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


def test_finance_downloads_every_pdf_of_a_period_as_one_zip(finance_client, workspace, period):
    response = finance_client.get(f"/w/{workspace.slug}/payouts/periods/{period.pk}/statements.zip")

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert len(archive.namelist()) == 2


def test_finance_downloads_the_payout_csv(finance_client, workspace, period):
    response = finance_client.get(f"/w/{workspace.slug}/payouts/periods/{period.pk}/payouts.csv")

    lines = response.content.decode().splitlines()
    assert lines[0].startswith("statement,partner,email,method,details,amount") and len(lines) == 3


def test_an_outsider_gets_404_on_every_payout_page(outsider_client, workspace, period, statement):
    for url in (
        f"/w/{workspace.slug}/payouts/",
        f"/w/{workspace.slug}/payouts/periods/{period.pk}/",
        f"/w/{workspace.slug}/payouts/statements/{statement.pk}/",
        f"/w/{workspace.slug}/payouts/statements/{statement.pk}/pdf/",
    ):
        assert outsider_client.get(url).status_code == 404


def test_another_workspaces_statement_is_a_404_in_this_workspace(finance_client, workspace, other_workspace):
    stranger = foreign_statement(other_workspace)

    assert finance_client.get(f"/w/{workspace.slug}/payouts/statements/{stranger.pk}/").status_code == 404
    assert finance_client.post(f"/w/{workspace.slug}/payouts/statements/{stranger.pk}/mark-paid/").status_code == 404


# --- Portal -----------------------------------------------------------------------------


@pytest.fixture
def own_statement(workspace, partner_user):
    partner = PartnerUser.objects.get(user=partner_user).partner
    earn(partner, "61.00")
    earn(PartnerFactory(workspace=workspace, name="Someone Else Entirely"), "5.00")
    close_payout_period(workspace=workspace, end=date(2026, 9, 30), today=date(2026, 11, 24))
    return Statement.objects.get(partner=partner)


def test_a_partner_sees_only_its_own_statements_in_the_portal(partner_client, workspace, own_statement):
    response = partner_client.get(f"/portal/{workspace.slug}/statements/")

    assert response.status_code == 200
    assert list(response.context["statements"]) == [own_statement]
    assert b"61.00 USD" in response.content


def test_a_partner_downloads_its_statement_pdf(partner_client, workspace, own_statement):
    response = partner_client.get(f"/portal/{workspace.slug}/statements/{own_statement.pk}/pdf/")

    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_another_partners_statement_is_a_404_in_the_portal(partner_client, workspace, own_statement):
    other = Statement.objects.exclude(pk=own_statement.pk).get(workspace=workspace)

    assert partner_client.get(f"/portal/{workspace.slug}/statements/{other.pk}/pdf/").status_code == 404


def test_an_outsider_gets_404_on_the_portal_statements(outsider_client, workspace, own_statement):
    assert outsider_client.get(f"/portal/{workspace.slug}/statements/").status_code == 404
    assert outsider_client.get(f"/portal/{workspace.slug}/statements/{own_statement.pk}/pdf/").status_code == 404


def test_bulk_approve_approves_the_checked_statements(finance_client, workspace, period, statement):
    response = finance_client.post(
        f"/w/{workspace.slug}/payouts/periods/{period.pk}/approve/", {"statement": [statement.pk]}
    )

    assert response.status_code == 302
    assert Statement.objects.get(pk=statement.pk).status == "approved"


def test_a_manager_may_not_approve_or_pay(manager_client, workspace, period, statement):
    assert (
        manager_client.post(
            f"/w/{workspace.slug}/payouts/periods/{period.pk}/approve/", {"statement": [statement.pk]}
        ).status_code
        == 403
    )
    assert manager_client.post(f"/w/{workspace.slug}/payouts/statements/{statement.pk}/mark-paid/").status_code == 403
    assert Statement.objects.get(pk=statement.pk).status == "issued"
