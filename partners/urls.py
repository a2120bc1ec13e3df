from django.urls import path

from partners import views
from partners.imports import views as import_views
from partners.notifications import views as notification_views
from partners.payout_methods import views as payout_views

# Pages outside any workspace. The application and invitation pages are public on purpose
# (see tests/partners/isolation.py); `home` decides where a signed-in person lands.
urlpatterns = [
    path("", views.home, name="home"),
    path("apply/<slug:workspace_slug>/<slug:program_slug>/", views.apply, name="partner_apply"),
    path("partner-invitations/<str:token>/", views.accept_partner_invitation, name="accept_partner_invitation"),
    path("notifications/unsubscribe/<str:token>/", notification_views.unsubscribe, name="notification_unsubscribe"),
]

# Pages under /w/<slug>/. The partner list and detail pages are reporting's (they show data of several apps).
workspace_urlpatterns = [
    path("partners/invite/", views.partner_invite, name="partner_invite"),
    path("partners/import/", import_views.partner_import, name="partner_import"),
    path("partners/import/<uuid:import_uuid>/", import_views.partner_import_detail, name="partner_import_detail"),
    path("partners/import/<uuid:import_uuid>/start/", import_views.partner_import_start, name="partner_import_start"),
    path("partners/applications/", views.applications, name="partner_applications"),
    path("partners/groups/", views.group_list, name="partner_groups"),
    path("partners/groups/new/", views.group_create, name="partner_group_create"),
    path("partners/groups/<int:group_id>/rename/", views.group_rename, name="partner_group_rename"),
    path("partners/<int:partner_id>/edit/", views.partner_edit, name="partner_edit"),
    path("partners/<int:partner_id>/payout-method/", payout_views.partner_payout_method, name="partner_payout_method"),
    path("partners/<int:partner_id>/notes/", views.partner_notes, name="partner_notes"),
    path("partners/<int:partner_id>/approve/", views.partner_approve, name="partner_approve"),
    path("partners/<int:partner_id>/reject/", views.partner_reject, name="partner_reject"),
    path("partners/<int:partner_id>/suspend/", views.partner_suspend, name="partner_suspend"),
    path("partners/<int:partner_id>/reactivate/", views.partner_reactivate, name="partner_reactivate"),
    path("partners/<int:partner_id>/group/", views.partner_change_group, name="partner_change_group"),
    path("partners/<int:partner_id>/invitation/", views.partner_send_invitation, name="partner_send_invitation"),
    path("announcements/", notification_views.announcement_list, name="announcement_list"),
    path("programs/", views.program_list, name="program_list"),
    path("programs/new/", views.program_create, name="program_create"),
    path("programs/<int:program_id>/edit/", views.program_edit, name="program_edit"),
]

# Pages under /portal/<slug>/ (names start with "portal").
portal_urlpatterns = [
    path("profile/", views.portal_profile, name="portal_profile"),
    path("payout-settings/", payout_views.portal_payout_settings, name="portal_payout_settings"),
    path("tax-details/", payout_views.portal_tax_details, name="portal_tax_details"),
    path("profile/emails/", notification_views.portal_email_choices, name="portal_email_choices"),
    path(
        "announcements/<uuid:announcement_uuid>/dismiss/",
        notification_views.portal_dismiss_announcement,
        name="portal_dismiss_announcement",
    ),
]
