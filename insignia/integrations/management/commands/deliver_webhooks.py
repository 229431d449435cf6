"""``insignia deliver_webhooks``: attempt due webhook deliveries now (for cron, or after an outage)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from insignia.integrations.delivery import deliver_due


class Command(BaseCommand):
    help = "Attempt every pending webhook delivery whose next attempt is due."

    def handle(self, *args: Any, **options: Any) -> None:
        count = deliver_due()
        self.stdout.write(f"{count} delivery attempt(s) made.")
