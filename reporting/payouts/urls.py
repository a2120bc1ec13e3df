"""Payout pages: finance's under /w/<slug>/payouts/, the partner's under /portal/<slug>/statements/."""

from django.urls import path

from reporting.payouts import views
from reporting.payouts.runs import urls as run_urls

workspace_urlpatterns = [
    path("payouts/", views.payout_periods, name="payout_periods"),
    path("payouts/periods/<int:period_id>/", views.payout_period_detail, name="payout_period_detail"),
    path("payouts/periods/<int:period_id>/mark-paid/", views.payout_period_mark_paid, name="payout_period_mark_paid"),
    path("payouts/periods/<int:period_id>/approve/", views.payout_period_approve, name="payout_period_approve"),
    path("payouts/periods/<int:period_id>/statements.zip", views.payout_period_zip, name="payout_period_zip"),
    path("payouts/periods/<int:period_id>/payouts.csv", views.payout_period_csv, name="payout_period_csv"),
    path("payouts/statements/<int:statement_id>/", views.statement_detail, name="statement_detail"),
    path("payouts/statements/<int:statement_id>/pdf/", views.statement_pdf, name="statement_pdf"),
    path("payouts/statements/<int:statement_id>/approve/", views.statement_approve, name="statement_approve"),
    path("payouts/statements/<int:statement_id>/mark-paid/", views.statement_mark_paid, name="statement_mark_paid"),
] + run_urls.workspace_urlpatterns

portal_urlpatterns = [
    path("statements/", views.portal_statements, name="portal_statements"),
    path("statements/<int:statement_id>/pdf/", views.portal_statement_pdf, name="portal_statement_pdf"),
] + run_urls.portal_urlpatterns
