from django.urls import path

from attribution.integrations import views

# Under /webhooks/: public, authenticated by each sender's signature.
webhook_urlpatterns = [
    path("stripe/<slug:workspace_slug>/", views.stripe_webhook, name="stripe_webhook"),
    path("hubspot/<slug:workspace_slug>/", views.hubspot_webhook, name="hubspot_webhook"),
]

# Under /w/<slug>/.
workspace_urlpatterns = [
    path("settings/integrations/", views.integration_settings, name="integration_settings"),
    path("settings/integrations/stripe/", views.stripe_settings, name="integration_stripe"),
    path("settings/integrations/hubspot/", views.hubspot_settings, name="integration_hubspot"),
    path("import/", views.csv_imports, name="csv_imports"),
    path("import/<int:import_id>/", views.csv_import_detail, name="csv_import_detail"),
    path("import/<int:import_id>/progress/", views.csv_import_progress, name="csv_import_progress"),
    path("import/<int:import_id>/errors.csv", views.csv_import_errors, name="csv_import_errors"),
]
