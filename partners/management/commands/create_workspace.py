from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.services import create_workspace
from partners.services import ensure_default_program


class Command(BaseCommand):
    help = (
        "Create a workspace with its owner and its Default program (safe to repeat: an existing workspace "
        "only gains what is missing). "
        "With --api-key, the new key is printed once, alone on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="URL name, e.g. acme (lower-case letters, digits, dashes)")
        parser.add_argument("--name", required=True, help="Display name, e.g. 'Acme Inc.'")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument(
            "--owner-password", help="Sets the password of a new owner; without it they use password reset."
        )
        parser.add_argument("--domain", action="append", default=[], help="A verified destination domain (repeatable)")
        parser.add_argument("--api-key", action="store_true", help="Issue an API key and print it on the last line")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                result = create_workspace(
                    slug=options["slug"],
                    name=options["name"],
                    owner_email=options["owner_email"],
                    owner_password=options["owner_password"],
                    domains=options["domain"],
                    with_api_key=options["api_key"],
                )
                # Here rather than in accounts.services.create_workspace: accounts may not import partners.
                program = ensure_default_program(workspace=result.workspace)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        ws = result.workspace
        verb = "Created" if result.created else "Updated existing"
        domains = ", ".join(d.domain for d in ws.domains.all()) or "none"
        self.stdout.write(
            f"{verb} workspace {ws.slug} ({ws.name}); owner {result.owner.email}; program: {program.name} "
            f"({program.currency}); domains: {domains}"
        )
        if result.api_key:
            self.stdout.write("API key (shown once):")
            self.stdout.write(result.api_key)
