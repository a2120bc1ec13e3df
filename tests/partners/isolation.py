"""The partners app's part of the isolation registry (see tests/isolation.py)."""

from __future__ import annotations

from tests.partners.factories import PartnerFactory, PartnerGroupFactory, ProgramFactory


def _partner_import(workspace):
    from partners.imports.models import PartnerImport

    return PartnerImport.objects.create(
        workspace=workspace, program=ProgramFactory(workspace=workspace), filename="p.csv"
    )


FOREIGN_PARAMS = {
    "partner_id": lambda workspace: PartnerFactory(workspace=workspace).pk,
    "program_id": lambda workspace: ProgramFactory(workspace=workspace).pk,
    "group_id": lambda workspace: PartnerGroupFactory(workspace=workspace).pk,
    "import_uuid": lambda workspace: _partner_import(workspace).uuid,
}

PUBLIC_ROUTES = {
    "partner_apply": "the public application page of a program that opted in; it shows only that program's "
    "name and terms, and a 404 for programs that did not opt in",
    "accept_partner_invitation": "guarded by the signed, expiring partner invitation token in the URL",
}

REQUEST_DATA = {
    "api:put_payout_method": {"type": "paypal", "email": "jo@example.com"},
}
