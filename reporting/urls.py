from django.urls import path

from reporting import portal, views

workspace_urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("partners/<int:partner_id>/", views.partner_detail, name="partner_detail"),
]

# Pages under /portal/<slug>/.
portal_urlpatterns = [
    path("", portal.portal_home, name="portal_home"),
]
