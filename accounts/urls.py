from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import branding_views, views
from accounts.forms import ResetPasswordForm
from accounts.outbound import urls as outbound_urls
from accounts.two_factor import urls as two_factor_urls

# Pages outside any workspace.
# "" (name "home") is partners.views.home: it also sends partner logins to their portal.
urlpatterns = [
    # Reached through a workspace (?workspace=<slug>, or a portal page in ?next=), it shows that business's brand.
    path("login/", branding_views.login, name="login"),
    path("brand/<slug:slug>/logo", branding_views.workspace_logo, name="workspace_logo"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            form_class=ResetPasswordForm,
            template_name="accounts/password_reset.html",
            email_template_name="accounts/email/password_reset.txt",
            html_email_template_name="accounts/email/password_reset.html",
            subject_template_name="accounts/email/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="accounts/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
    *two_factor_urls.urlpatterns,
]

# Pages under /w/<slug>/.
workspace_urlpatterns = [
    path("settings/members/", views.members, name="members"),
    path("settings/members/<int:membership_id>/role/", views.change_role, name="change_role"),
    path("settings/members/<int:membership_id>/remove/", views.remove_member, name="remove_member"),
    path("settings/invitations/<int:invitation_id>/revoke/", views.revoke_invitation, name="revoke_invitation"),
    path("settings/api-keys/", views.api_keys, name="api_keys"),
    path("settings/api-keys/<int:key_id>/revoke/", views.revoke_api_key, name="revoke_api_key"),
    path("settings/branding/", branding_views.branding_settings, name="branding_settings"),
    path("settings/domains/", views.domains, name="domains"),
    path("settings/domains/<int:domain_id>/verify/", views.verify_domain, name="verify_domain"),
    path("settings/domains/<int:domain_id>/remove/", views.remove_domain, name="remove_domain"),
    path("audit/", views.audit_log, name="audit_log"),
    *outbound_urls.workspace_urlpatterns,
    *two_factor_urls.workspace_urlpatterns,
]
