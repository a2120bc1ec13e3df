from django.conf import settings
from django.urls import path

from referrals import portal, views

# Outside any workspace: the public short link (and the bench's baseline when enabled).
urlpatterns = [
    path("r/<str:code>", views.short_link, name="redirect"),
]
if settings.TANDEM_BENCH_ENDPOINTS:
    urlpatterns += [
        path("bench/302", views.bench_redirect, name="bench_redirect"),
        path("bench/tail", views.bench_tail, name="bench_tail"),
    ]

# Pages under /w/<slug>/.
workspace_urlpatterns = [
    path("links/", views.link_list, name="link_list"),
    path("links/new/", views.link_create, name="link_create"),
    path("links/<int:link_id>/", views.link_detail, name="link_detail"),
    path("links/<int:link_id>/archive/", views.link_archive, name="link_archive"),
    path("links/<int:link_id>/qr.svg", views.link_qr, {"kind": "svg"}, name="link_qr_svg"),
    path("links/<int:link_id>/qr.png", views.link_qr, {"kind": "png"}, name="link_qr_png"),
    path("codes/", views.code_list, name="code_list"),
    path("codes/<int:code_id>/archive/", views.code_archive, name="code_archive"),
    path("referrals/", views.referral_list, name="referral_list"),
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:deal_id>/approve/", views.deal_decide, {"decision": "approve"}, name="deal_approve"),
    path("deals/<int:deal_id>/reject/", views.deal_decide, {"decision": "reject"}, name="deal_reject"),
]

# Pages under /portal/<slug>/ (names start with "portal_").
portal_urlpatterns = [
    path("links/", portal.portal_links, name="portal_links"),
    path("links/<int:link_id>/qr.svg", portal.portal_link_qr, {"kind": "svg"}, name="portal_link_qr_svg"),
    path("links/<int:link_id>/qr.png", portal.portal_link_qr, {"kind": "png"}, name="portal_link_qr_png"),
    path("codes/", portal.portal_codes, name="portal_codes"),
    path("referrals/", portal.portal_referrals, name="portal_referrals"),
    path("deals/", portal.portal_deals, name="portal_deals"),
]
