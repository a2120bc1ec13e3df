from django.urls import path

from reporting import views

workspace_urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
