"""A local stand-in for Stripe's API, and a world of statements to pay, for the payout run tests.

The stand-in answers POST /v1/transfers, /v1/accounts and /v1/account_links as Stripe does, records
every request (path, form, headers), and keeps Stripe's idempotency rule: a key seen before gets the
first answer again. It can be told to refuse the next transfers (400, with a message) or to hang
past the client's timeout after accepting one (the transfer is made; the answer never arrives).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from partners.models import Partner
from partners.payout_methods.services import set_payout_method


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class StripeStandIn:
    """Run with `start()`; `url` is what STRIPE_API_BASE should be."""

    requests: list[Recorded] = field(default_factory=list)
    refuse_next: int = 0
    refusal_message: str = (
        "Your destination account needs to have at least one of the following capabilities enabled: transfers"
    )
    hang_next: int = 0
    hang_seconds: float = 3.0
    _answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> StripeStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                status, body, hang = standin.answer(self.path, form, {k.lower(): v for k, v in self.headers.items()})
                if hang:
                    time.sleep(standin.hang_seconds)
                try:
                    payload = json.dumps(body).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, Any], bool]:
        with self._lock:
            self.requests.append(Recorded("POST", path, form, headers))
            key = headers.get("idempotency-key", "")
            if key and key in self._answers:
                status, body = self._answers[key]
                return status, body, False
            hang = False
            if path == "/v1/transfers":
                if self.refuse_next > 0:
                    self.refuse_next -= 1
                    status, body = (
                        400,
                        {
                            "error": {
                                "type": "invalid_request_error",
                                "code": "insufficient_capabilities_for_transfer",
                                "message": self.refusal_message,
                            }
                        },
                    )
                else:
                    status, body = 200, {"id": f"tr_{uuid.uuid4().hex[:20]}", "object": "transfer", **form}
                    if self.hang_next > 0:
                        self.hang_next -= 1
                        hang = True
            elif path == "/v1/accounts":
                status, body = 200, {"id": f"acct_{uuid.uuid4().hex[:16]}", "object": "account", "type": "express"}
            elif path == "/v1/account_links":
                status, body = (
                    200,
                    {"object": "account_link", "url": f"https://connect.stripe.test/setup/{form.get('account')}"},
                )
            else:
                status, body = (
                    404,
                    {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})"}},
                )
            if key:
                self._answers[key] = (status, body)
            return status, body, hang

    def transfers(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/transfers"]

    def made_transfers(self) -> dict[str, Recorded]:
        """The transfers Stripe made, by idempotency key: one per key however often it was sent."""
        with self._lock:
            made = {
                k for k, (status, _) in self._answers.items() if status == 200 and k.startswith("tandem-statement-")
            }
        return {r.headers["idempotency-key"]: r for r in self.transfers() if r.headers.get("idempotency-key") in made}


def give_method(partner: Partner, method_type: str, **fields: str) -> None:
    set_payout_method(partner=partner, method_type=method_type, fields=fields, by=None, actor_label="test")


def minor(amount: Decimal | str) -> str:
    return str(int(Decimal(amount) * 100))


# --- A world of statements -----------------------------------------------------------------


IBAN_DE = "DE89370400440532013000"
BIC_DE = "COBADEFFXXX"
PERIOD_END = "2026-09-30"


@dataclass
class World:
    workspace: Any
    period: Any
    partners: dict[str, Partner]
    statements: dict[str, Any]  # by partner key


def build_world(workspace: Any, *, methods: bool = True) -> World:
    """Five partners with one statement each, closed in the period ending 30 September 2026:
    two on Stripe (USD), one on SEPA (EUR), one on PayPal (USD), one with no payout method (USD)."""
    from datetime import date

    from reporting.payouts.statements import close_payout_period
    from tests.partners.factories import PartnerFactory, ProgramFactory
    from tests.reporting.payout_helpers import earn

    usd = ProgramFactory(workspace=workspace, name="Partners US", currency="USD")
    eur = ProgramFactory(workspace=workspace, name="Partners EU", currency="EUR")
    partners = {
        "stripe_a": PartnerFactory(workspace=workspace, program=usd, name="Alpha Stripe"),
        "stripe_b": PartnerFactory(workspace=workspace, program=usd, name="Bravo Stripe"),
        "sepa": PartnerFactory(workspace=workspace, program=eur, name="Charlie Bank"),
        "paypal": PartnerFactory(workspace=workspace, program=usd, name="Delta PayPal"),
        "none": PartnerFactory(workspace=workspace, program=usd, name="Echo Nomethod"),
    }
    amounts = {"stripe_a": "120.50", "stripe_b": "75.00", "sepa": "310.25", "paypal": "42.10", "none": "55.00"}
    for key, partner in partners.items():
        earn(partner, amounts[key])
    if methods:
        give_method(partners["stripe_a"], "stripe_connect", account_id="acct_1AlphaAlpha")
        give_method(partners["stripe_b"], "stripe_connect", account_id="acct_1BravoBravo")
        give_method(partners["sepa"], "sepa", account_holder="Charlie Bank GmbH", iban=IBAN_DE, bic=BIC_DE)
        give_method(partners["paypal"], "paypal", email="delta@paypal.test")
    closed = close_payout_period(
        workspace=workspace, end=date.fromisoformat(PERIOD_END), today=date(2026, 10, 5), email_partners=False
    )
    by_partner = {s.partner_id: s for s in closed.statements}
    return World(
        workspace=workspace,
        period=closed.period,
        partners=partners,
        statements={key: by_partner[p.pk] for key, p in partners.items()},
    )
