from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Workspace
from attribution.ledger import verify_chain


class Command(BaseCommand):
    help = "Check every workspace's ledger hash chain (or one with --workspace). Exit 0 when intact."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", metavar="SLUG", help="Only this workspace")

    def handle(self, *args: Any, **options: Any) -> None:
        workspaces = Workspace.objects.order_by("slug")
        if options["workspace"]:
            workspaces = workspaces.filter(slug=options["workspace"])
            if not workspaces.exists():
                raise CommandError(f"No workspace with slug {options['workspace']!r}.")
        total = 0
        for workspace in workspaces:
            checked, broken = verify_chain(workspace)
            total += checked
            if broken is not None:
                raise CommandError(f"Ledger broken: {broken}")
        self.stdout.write(f"Ledger intact: {total} entries in {workspaces.count()} workspace(s) verified.")
