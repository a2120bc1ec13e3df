"""The JSON API at /api/v1/: each app contributes a router; every one of them needs a workspace key, and
every write honours Idempotency-Key (accounts/api_platform.py)."""

from accounts.api import router as domains_router
from accounts.api_document import DocumentedNinjaAPI
from accounts.api_platform import EdgeParser, WorkspaceKeyAuth, install_api_platform
from accounts.outbound.api import router as webhooks_router
from attribution.adjustments_api import router as adjustments_router
from attribution.api import router as attribution_router
from attribution.integrations.api import router as integrations_router
from partners import api as partners_api
from partners.api import router as partners_router
from partners.payout_methods.api import router as payout_methods_router
from partners.programs_api import router as programs_router
from referrals.api import router as links_router
from referrals.default_links import default_link_out
from reporting.payouts.api import router as payouts_router
from reporting.payouts.runs.api import router as payout_runs_router
from reporting.privacy.api import router as privacy_router
from reporting.stats_api import router as stats_router
from reporting.tax_reports import router as tax_reports_router

api = DocumentedNinjaAPI(
    title="Tandem API",
    version="1",
    description="Referral tracking for partner ecosystems. Authenticate with `Authorization: Bearer <workspace API key>`.",
    auth=WorkspaceKeyAuth(),
    parser=EdgeParser(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
# Before the routers: the error shape and Idempotency-Key reach every operation, present and future.
install_api_platform(api)
api.add_router("", domains_router)
api.add_router("", partners_router)
api.add_router("", payout_methods_router)
api.add_router("", programs_router)
# partners may not import referrals: the default link in its answers is described by referrals.
partners_api.describe_default_link = default_link_out
api.add_router("", links_router)
api.add_router("", integrations_router)
api.add_router("", payouts_router)
api.add_router("", payout_runs_router)
api.add_router("", adjustments_router)  # before attribution's GET /events/{event_id}, which would match /assign
api.add_router("", attribution_router)
api.add_router("", stats_router)
api.add_router("", privacy_router)
api.add_router("", webhooks_router)
api.add_router("", tax_reports_router)


def _link(operation_id: str, **parameters: str) -> dict[str, dict[str, object]]:
    return {operation_id.rsplit("_api_", 1)[-1]: {"operationId": operation_id, "parameters": parameters}}


_EVENT = _link("attribution_api_get_event", event_id="$response.body#/event_id")
# Each write points at where what it made is read back (OpenAPI links; schemathesis follows them).
api.links = {
    ("post", "/api/v1/domains"): _link("accounts_api_get_domain", domain_id="$response.body#/id"),
    ("post", "/api/v1/partners"): {
        **_link("partners_api_get_partner", partner_id="$response.body#/id"),
        **_link("reporting_stats_api_get_partner_stats", id="$response.body#/id"),
    },
    ("post", "/api/v1/links"): _link("referrals_api_get_link", link_id="$response.body#/id"),
    ("post", "/api/v1/track/lead"): _EVENT,
    ("post", "/api/v1/track/sale"): _EVENT,
    ("post", "/api/v1/track/refund"): _EVENT,
    ("post", "/api/v1/programs/{program_id}/rewards"): _link(
        "attribution_api_list_rewards", program_id="$request.path.program_id"
    ),
    ("put", "/api/v1/integrations/stripe"): _link("attribution_integration_api_get_stripe"),
    ("put", "/api/v1/partners/{partner_id}/payout-method"): _link(
        "partners_payout_methods_api_get_payout_method", partner_id="$request.path.partner_id"
    ),
    ("post", "/api/v1/webhook-endpoints"): _link(
        "accounts_outbound_api_get_endpoint", endpoint_id="$response.body#/id"
    ),
    ("post", "/api/v1/payout-runs"): _link("reporting_payouts_runs_api_get_run", payout_run_id="$response.body#/id"),
}
