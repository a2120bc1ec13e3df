from django.contrib import admin
from django.urls import include, path

from accounts import urls as accounts_urls
from config.api import api
from reporting import urls as reporting_urls

admin.site.site_header = "Tandem operations"
admin.site.site_title = "Tandem admin"

workspace_urlpatterns = accounts_urls.workspace_urlpatterns + reporting_urls.workspace_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("w/<slug:slug>/", include(workspace_urlpatterns)),
    path("", include(accounts_urls.urlpatterns)),
]

handler404 = "config.errors.not_found"
