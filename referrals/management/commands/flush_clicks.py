from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from referrals.clicks import flusher


class Command(BaseCommand):
    help = "Write buffered clicks from Redis into PostgreSQL now (what the beat task does every few seconds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000, help="Clicks per COPY batch (default 2000).")
        parser.add_argument(
            "--max-seconds", type=float, default=None, help="Stop after this long (default: until drained)."
        )
        parser.add_argument(
            "--claim-idle-ms",
            type=int,
            default=30_000,
            help="Take over entries a dead flusher left pending this long (default 30000).",
        )
        parser.add_argument(
            "--pause-before-ack",
            type=float,
            default=0.0,
            help="Testing aid: wait this long between a batch's commit and its acknowledgement.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = flusher.flush_clicks(
            batch_size=options["batch_size"],
            max_seconds=options["max_seconds"],
            claim_idle_ms=options["claim_idle_ms"],
            pause_before_ack=options["pause_before_ack"],
        )
        self.stdout.write(result.describe())
