from django.urls import path

from accounts.outbound import views

# Pages under /w/<slug>/ (accounts/urls.py includes them).
workspace_urlpatterns = [
    path("settings/webhooks/", views.endpoints, name="webhook_endpoints"),
    path("settings/webhooks/<str:endpoint_id>/", views.endpoint_detail, name="webhook_endpoint"),
    path("settings/webhooks/<str:endpoint_id>/toggle/", views.toggle_endpoint, name="toggle_webhook_endpoint"),
    path("settings/webhooks/<str:endpoint_id>/remove/", views.delete_endpoint, name="remove_webhook_endpoint"),
    path(
        "settings/webhooks/<str:endpoint_id>/deliveries/<str:delivery_id>/resend/",
        views.resend_delivery,
        name="resend_webhook_delivery",
    ),
]
