from django.urls import path

from reporting import export_views, portal, search, views
from reporting.partner_list import views as partner_list_views

workspace_urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("partners/", partner_list_views.partner_list, name="partner_list"),
    path("partners/export/", partner_list_views.partner_export, name="partner_export"),
    path("partners/bulk/", partner_list_views.partner_bulk, name="partner_bulk"),
    path("partners/<int:partner_id>/", views.partner_detail, name="partner_detail"),
    path("search/", search.staff_search, name="staff_search"),
    path("reports/export/", export_views.report_export, name="report_export"),
    path("reports/exports/<int:export_id>/", export_views.report_export_job, name="report_export_job"),
    path(
        "reports/exports/<int:export_id>/download/", export_views.report_export_download, name="report_export_download"
    ),
]

# Pages under /portal/<slug>/.
portal_urlpatterns = [
    path("", portal.portal_home, name="portal_home"),
]
