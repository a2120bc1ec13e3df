from django.urls import path

from accounts.two_factor import views

# Outside any workspace: two factors belong to the person.
urlpatterns = [
    path("login/code/", views.sign_in_code, name="login_code"),
    path("account/two-factor/", views.setup, name="two_factor_setup"),
    path("account/two-factor/recovery-codes/", views.new_recovery_codes, name="two_factor_recovery_codes"),
    path("account/two-factor/disable/", views.disable, name="two_factor_disable"),
]

# Under /w/<slug>/.
workspace_urlpatterns = [
    path("settings/security/", views.security, name="workspace_security"),
    path("settings/members/<int:membership_id>/reset-two-factor/", views.reset_member, name="reset_member_two_factor"),
    path(
        "settings/partner-logins/<int:partner_user_id>/reset-two-factor/",
        views.reset_partner_login,
        name="reset_partner_two_factor",
    ),
]
