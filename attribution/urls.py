from django.urls import path

from attribution import adjustment_views, portal, views
from attribution.fraud import views as fraud_views

# Pages under /w/<slug>/.
workspace_urlpatterns = [
    path("events/", views.inbound_events, name="inbound_events"),
    path("events/retry/", views.retry_events, name="retry_events"),
    path("events/<int:event_pk>/assign/", adjustment_views.assign_event, name="assign_event"),
    path("commissions/", views.commission_list, name="commission_list"),
    path("commissions/bulk/", views.commission_bulk, name="commission_bulk"),
    path("commissions/new/", adjustment_views.add_bonus, name="add_bonus"),
    path("commissions/approve-due/", views.commission_approve_due, name="commission_approve_due"),
    path("commissions/export.csv", views.commission_export, name="commission_export"),
    path("commissions/<int:commission_id>/", views.commission_detail, name="commission_detail"),
    path("rewards/", views.reward_overview, name="reward_overview"),
    path("programs/<int:program_id>/rewards/", views.reward_rules, name="reward_rules"),
    path("settings/exchange-rates/", views.exchange_rates, name="exchange_rates"),
    path("review/", fraud_views.review_queue_page, name="fraud_review"),
    path("review/decide/", fraud_views.review_decide, name="fraud_review_decide"),
    path("review/flags/", fraud_views.partner_flag, name="fraud_partner_flag"),
    path("programs/<int:program_id>/fraud/", fraud_views.fraud_settings, name="fraud_settings"),
]

# Pages under /portal/<slug>/ (names start with "portal_").
portal_urlpatterns = [
    path("commissions/", portal.portal_commissions, name="portal_commissions"),
    path("commissions/<int:commission_id>/", portal.portal_commission_detail, name="portal_commission_detail"),
    path("commissions/<int:commission_id>/explain/", fraud_views.portal_review_reply, name="portal_review_reply"),
]
