from __future__ import annotations

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from accounts import services
from accounts.models import Heartbeat


@shared_task(acks_late=True)
def record_heartbeat(name: str = "beat") -> None:
    """Mark that a worker ran; repeating it only moves the time forward."""
    updated = Heartbeat.objects.filter(name=name).update(beat_at=timezone.now(), count=F("count") + 1)
    if not updated:
        Heartbeat.objects.get_or_create(name=name, defaults={"beat_at": timezone.now(), "count": 1})


@shared_task(acks_late=True)
def recheck_pending_domains() -> int:
    """Look up the DNS of domains waiting for their tandem-verify record; a found record verifies once."""
    return services.recheck_pending_domains()
