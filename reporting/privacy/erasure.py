"""Erasing a referred customer on request (GDPR article 17), keeping the money.

Every personal field about the customer — email, name, the raw payloads of their events, the rows
of uploaded CSVs, audit entries, logs of webhooks sent — is replaced by a stable pseudonym
(`erased-<hash>`, the same for the same customer). Amounts, commissions, statements and the ledger
stay as they were, so `verify_ledger` still passes and reports add up. The tenant's id for the
customer is kept (later sales still find the partner), unless it is itself an email address.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from accounts.models import AuditLogEntry, User, Workspace
from accounts.services import record_audit
from attribution.integrations.models import CsvImport
from attribution.models import InboundEvent
from referrals.models import DealRegistration, Referral
from reporting.payouts.models import Statement, StatementLine
from reporting.privacy import scrub
from reporting.rollups.models import ExportJob

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never be anyone's address
# Keys of a raw payload (Stripe, HubSpot, a CSV row, the API) that hold who the customer is.
PERSONAL_KEYS = frozenset(
    {
        "email", "customer_email", "name", "customer_name", "first_name", "last_name", "firstname", "lastname",
        "phone", "customer_phone", "address", "customer_address", "shipping", "billing_details",
        "contact_name", "contact_email", "ip", "ip_address",
    }
)  # fmt: skip


class CustomerNotFound(LookupError):
    """Tandem holds nothing about a customer with this id in this workspace."""


@dataclass(frozen=True)
class Erasure:
    customer_external_id: str
    erased_at: datetime
    status: str = "erased"


def customer_key(workspace: Workspace, customer_external_id: str) -> str:
    message = f"{workspace.pk}:{customer_external_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def pseudonym_of(key: str) -> str:
    return f"erased-{key[:16]}"


def _blank_personal(value: Any, pseudonym: str) -> Any:
    if isinstance(value, dict):
        return {
            k: (_pseudonymous(v, pseudonym) if k.lower() in PERSONAL_KEYS else _blank_personal(v, pseudonym))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_blank_personal(v, pseudonym) for v in value]
    return value


def _pseudonymous(value: Any, pseudonym: str) -> Any:
    if isinstance(value, str):
        if not value:
            return value
        return f"{pseudonym}@{ERASED_DOMAIN}" if "@" in value else pseudonym
    if isinstance(value, dict | list):
        return {} if isinstance(value, dict) else []
    return value


ERASED = "customer.erased"


@dataclass(frozen=True)
class ErasureRecord:
    pseudonym: str
    erased_at: datetime


def _erasure_record(workspace: Workspace, key: str) -> ErasureRecord | None:
    """The audit entry of the customer's erasure is its record: it holds the keyed hash of the id
    (never the id, which may be an email address) and when it happened."""
    entry = (
        AuditLogEntry.objects.for_workspace(workspace)
        .filter(action=ERASED, changes__customer_key=key)
        .order_by("created_at", "id")
        .first()
    )
    return ErasureRecord(pseudonym_of(key), entry.created_at) if entry else None


def erasure_of(*, workspace: Workspace, customer_external_id: str) -> ErasureRecord | None:
    return _erasure_record(workspace, customer_key(workspace, customer_external_id))


def erase_customer(
    *, workspace: Workspace, customer_external_id: str, by: User | None = None, actor_label: str | None = None
) -> Erasure:
    """Erase one customer of the workspace; erasing again answers the first erasure. Raises
    CustomerNotFound when Tandem holds nothing about the id."""
    key = customer_key(workspace, customer_external_id)
    pseudonym = pseudonym_of(key)
    pseudonymous_email = f"{pseudonym}@{ERASED_DOMAIN}"
    with transaction.atomic():
        with connection.cursor() as cursor:  # two erasures of one customer at once: the second waits, then answers
            cursor.execute("SELECT pg_advisory_xact_lock(728, hashtext(%s))", [f"{workspace.pk}:{key}"])
        done = _erasure_record(workspace, key)
        if done is not None:
            return Erasure(customer_external_id, done.erased_at)

        referrals = list(Referral.objects.for_workspace(workspace).filter(customer_external_id=customer_external_id))
        events = list(InboundEvent.objects.for_workspace(workspace).filter(customer_external_id=customer_external_id))
        if not referrals and not events:
            raise CustomerNotFound(customer_external_id)
        deals = list(
            DealRegistration.objects.for_workspace(workspace).filter(
                pk__in=[r.deal_registration_id for r in referrals if r.deal_registration_id]
            )
        )
        emails = {r.customer_email for r in referrals} | {d.contact_email for d in deals}
        names = {r.customer_name for r in referrals} | {d.contact_name for d in deals}
        for event in events:
            emails |= _values(event.payload, ("customer_email", "email", "contact_email"))
            # Not every "name" (a product has one too): names are replaced wherever they are whole values.
            names |= _values(event.payload, ("customer_name", "contact_name"))
        external_is_personal = "@" in customer_external_id
        if external_is_personal:
            emails.add(customer_external_id)
        emails = {e.strip().lower() for e in emails if e and "@" in e}
        names = {n for n in names if n and n.strip()}

        # The customer's own rows first, field by field.
        for event in events:
            event.payload = _blank_personal(event.payload, pseudonym)
            fields = ["payload"]
            if external_is_personal:
                event.customer_external_id = pseudonym
                fields.append("customer_external_id")
            event.save(update_fields=fields)
        for referral in referrals:
            referral.customer_email = pseudonymous_email if referral.customer_email else ""
            referral.customer_name = pseudonym if referral.customer_name else ""
            fields = ["customer_email", "customer_name"]
            if external_is_personal:
                referral.customer_external_id = pseudonym
                fields.append("customer_external_id")
            referral.save(update_fields=fields)
        for deal in deals:
            deal.contact_email = pseudonymous_email
            deal.contact_name = pseudonym
            deal.save(update_fields=["contact_email", "contact_name"])

        # Then wherever else the workspace keeps text.
        scrub.replace_emails(workspace_id=workspace.pk, emails=emails, replacement=pseudonymous_email)
        scrub.replace_names(workspace_id=workspace.pk, names=names, replacement=pseudonym)
        files = [str(f.name) for f in (i.file for i in CsvImport.objects.for_workspace(workspace)) if f]
        files += list(
            ExportJob.objects.for_workspace(workspace).exclude(file_name="").values_list("file_name", flat=True)
        )
        scrub.rewrite_stored_files(names=files, emails=emails, replacement=pseudonymous_email)
        _forget_statement_pdfs(workspace, referral_ids=[r.pk for r in referrals], pseudonym=pseudonym)

        entry = record_audit(
            workspace=workspace,
            actor=by,
            actor_label=actor_label,
            action=ERASED,
            changes={
                "customer": pseudonym if external_is_personal else customer_external_id,
                "customer_key": key,
                "referrals": len(referrals),
                "events": len(events),
            },
        )
    return Erasure(customer_external_id, entry.created_at)


def _forget_statement_pdfs(workspace: Workspace, *, referral_ids: list[int], pseudonym: str) -> None:
    """A statement's PDF is rendered once and kept; one that named the customer is dropped, and the next
    download renders it again from its lines, which now read the pseudonym. Amounts are the same."""
    lines = StatementLine.objects.for_workspace(workspace).filter(
        Q(commission__referral_id__in=referral_ids)
        | Q(reversal__commission__referral_id__in=referral_ids)
        | Q(customer_reference__icontains=pseudonym)
        | Q(description__icontains=pseudonym)
    )
    statements = Statement.objects.for_workspace(workspace).filter(pk__in=lines.values("statement_id")).exclude(pdf="")
    for statement in statements:
        statement.pdf.delete(save=False)
        Statement.objects.for_workspace(workspace).filter(pk=statement.pk).update(pdf="")


def _values(document: Any, keys: tuple[str, ...]) -> set[str]:
    """Every string under one of `keys`, anywhere in a JSON document."""
    found: set[str] = set()
    if isinstance(document, dict):
        for k, v in document.items():
            if k in keys and isinstance(v, str):
                found.add(v)
            else:
                found |= _values(v, keys)
    elif isinstance(document, list):
        for v in document:
            found |= _values(v, keys)
    return found
