from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Workspace
from reporting import rollups


class Command(BaseCommand):
    help = (
        "Rebuild the daily report rollups from the raw clicks, referrals, conversions and commissions "
        "(every workspace, or one; the whole data span, or --start/--end). Safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="Slug of one workspace")
        parser.add_argument("--start", type=dt.date.fromisoformat, help="First day, YYYY-MM-DD (UTC)")
        parser.add_argument("--end", type=dt.date.fromisoformat, help="Last day, YYYY-MM-DD (UTC)")

    def handle(self, *args: Any, **options: Any) -> None:
        workspaces = Workspace.objects.order_by("slug")
        if options["workspace"]:
            workspaces = workspaces.filter(slug=options["workspace"])
            if not workspaces.exists():
                raise CommandError(f"No workspace with the slug {options['workspace']!r}.")
        if options["start"] and options["end"] and options["start"] > options["end"]:
            raise CommandError("--start must not be after --end.")
        total_days = count = 0
        for workspace in workspaces:
            span = rollups.data_span(workspace_id=workspace.pk)
            if span is None and not (options["start"] and options["end"]):
                continue
            # Without data, only a range given in full is rebuilt (see above).
            first, last = span if span is not None else (options["start"], options["end"])
            start = options["start"] or first
            end = options["end"] or last
            total_days += rollups.rebuild(workspace_id=workspace.pk, start=start, end=end)
            count += 1
        self.stdout.write(f"Rebuilt {total_days} days of rollups in {count} workspace(s).")
