from django.urls import path

from reporting.privacy import views

# Under /w/<slug>/.
workspace_urlpatterns = [
    path("settings/privacy/", views.privacy, name="privacy"),
    path("settings/privacy/customer-export/", views.customer_export, name="privacy_customer_export"),
    path("settings/privacy/partners/<int:partner_id>/export/", views.partner_export, name="privacy_partner_export"),
    path("settings/privacy/retention/", views.retention, name="privacy_retention"),
]

# Under /portal/<slug>/.
portal_urlpatterns = [
    path("privacy/", views.portal_privacy, name="portal_privacy"),
]
