from django.contrib import admin
from django.urls import include, path, re_path

from accounts import urls as accounts_urls
from attribution import urls as attribution_urls
from attribution.integrations import urls as integration_urls
from config import health
from config.api import api
from config.errors import json_not_found
from partners import urls as partners_urls
from referrals import urls as referrals_urls
from reporting import urls as reporting_urls
from reporting.payouts import urls as payout_urls
from reporting.payouts import verification_views
from reporting.privacy import urls as privacy_urls

admin.site.site_header = "Tandem operations"
admin.site.site_title = "Tandem admin"

workspace_urlpatterns = (
    accounts_urls.workspace_urlpatterns
    + partners_urls.workspace_urlpatterns
    + reporting_urls.workspace_urlpatterns
    + referrals_urls.workspace_urlpatterns
    + integration_urls.workspace_urlpatterns
    + payout_urls.workspace_urlpatterns
    + attribution_urls.workspace_urlpatterns
    + privacy_urls.workspace_urlpatterns
)
portal_urlpatterns = (
    reporting_urls.portal_urlpatterns
    + partners_urls.portal_urlpatterns
    + referrals_urls.portal_urlpatterns
    + payout_urls.portal_urlpatterns
    + attribution_urls.portal_urlpatterns
    + privacy_urls.portal_urlpatterns
)

urlpatterns = [
    # The short-link redirect first: it is the hottest path and resolves in one step.
    path("", include(referrals_urls.urlpatterns)),
    path("healthz", health.healthz, name="healthz"),
    path("verify/<str:code>", verification_views.verify_statement, name="verify_statement"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("webhooks/", include(integration_urls.webhook_urlpatterns)),
    re_path(r"^(?:api|webhooks)/(?P<rest>.*)$", json_not_found, name="api_not_found"),  # JSON 404, never the HTML page
    path("w/<slug:slug>/", include(workspace_urlpatterns)),
    path("portal/<slug:slug>/", include(portal_urlpatterns)),
    path("", include(partners_urls.urlpatterns)),
    path("", include(accounts_urls.urlpatterns)),
]

handler404 = "config.errors.not_found"
