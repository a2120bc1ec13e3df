"""`/verify/<code>`: anyone holding a statement checks it against the business's records, without signing in.

The page is cheap (one lookup by code and one bounded ledger check), sets no cookie, and shows nothing of
the workspace beyond this statement. Addresses that keep trying codes that do not exist are slowed down.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts.login_throttle import client_ip
from core.currency import format_money
from reporting.payouts.verification import check_chain_up_to, mask_name, statement_facts, statement_for_code

# Unknown codes one address may try per window before it gets a 429: a person mistyping never gets
# near it, and at this rate guessing one of 2^50 codes takes longer than any statement is kept.
MISSES_ALLOWED = 120
MISS_WINDOW_SECONDS = 600


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _too_many_misses(request: HttpRequest) -> bool:
    allowed = getattr(settings, "VERIFY_MISSES_ALLOWED", MISSES_ALLOWED)
    return int(cache.get(f"verify-miss:{client_ip(request)}", 0)) >= allowed


def _count_miss(request: HttpRequest) -> None:
    key = f"verify-miss:{client_ip(request)}"
    if cache.add(key, 1, MISS_WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, MISS_WINDOW_SECONDS)


def _refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if _wants_json(request):
        code = "rate_limited" if status == 429 else "not_found"
        return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)
    return render(request, "reporting/verify_unknown.html", {"status": status, "message": message}, status=status)


@require_safe
@never_cache
def verify_statement(request: HttpRequest, code: str) -> HttpResponse:
    if _too_many_misses(request):
        return _refuse(request, 429, "Too many codes that do not exist were tried from here. Wait ten minutes.")
    statement = statement_for_code(code)
    if statement is None:
        _count_miss(request)
        return _refuse(request, 404, "No statement has this verification code. Check it against your statement.")
    check = check_chain_up_to(statement)
    workspace_name = statement.workspace.name
    partner = mask_name(statement.partner_name)
    company = mask_name(statement.partner_company) if statement.partner_company else ""
    if _wants_json(request):
        facts = statement_facts(statement)
        facts.update(
            issuer=workspace_name,
            partner=partner,
            partner_company=company or None,
            verified=check.verifies,
            problem=check.problem or None,
        )
        return JsonResponse(facts)
    return render(
        request,
        "reporting/verify.html",
        {
            "statement": statement,
            "issuer": workspace_name,
            "partner": partner,
            "company": company,
            "total": format_money(statement.total, statement.currency),
            "check": check,
        },
    )
