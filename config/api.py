"""The JSON API at /api/v1/: each app contributes a router; every one of them needs a workspace key."""

from ninja import NinjaAPI

from accounts.api import WorkspaceKeyAuth, install_error_handlers
from accounts.api_platform import EdgeParser
from accounts.api import router as domains_router
from attribution.api import install_database_unavailable_handler
from attribution.api import router as attribution_router
from attribution.integration_api import router as integrations_router
from partners.api import router as partners_router
from referrals.api import router as links_router
from reporting.payout_api import router as payouts_router
from reporting.stats_api import router as stats_router

api = NinjaAPI(
    title="Tandem API",
    version="1",
    description="Referral tracking for partner ecosystems. Authenticate with `Authorization: Bearer <workspace API key>`.",
    auth=WorkspaceKeyAuth(),
    parser=EdgeParser(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)
install_database_unavailable_handler(api)
api.add_router("", domains_router)
api.add_router("", partners_router)
api.add_router("", links_router)
api.add_router("", integrations_router)
api.add_router("", payouts_router)
api.add_router("", attribution_router)
api.add_router("", stats_router)
