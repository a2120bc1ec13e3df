from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reporting.demo import DEMO_PASSWORD, seed_demo_workspace


class Command(BaseCommand):
    help = "Load the demo workspace `demo` with its logins (idempotent; refuses in production)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production mode (DJANGO_ENV=production).")
        summary = seed_demo_workspace()
        self.stdout.write(f"Demo workspace '{summary.workspace.slug}' ready: {summary.describe()}")
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for email, role in summary.logins:
            self.stdout.write(f"  {email:<22} {role}")
