from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tandem")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks register through CELERY_IMPORTS (config/settings.py), which names every task module; no autodiscovery.


@worker_process_init.connect
def _keep_startup_objects_out_of_the_collector(**_: object) -> None:
    """As config/wsgi.py does: what a worker process loaded at start lives as long as it, so the
    collector's full passes (after each set of events re-enables it) need not walk it again."""
    import gc

    gc.freeze()


@task_prerun.connect
def _usable_database_connection(sender: object = None, **_: object) -> None:
    """What Django does before each request: drop a connection that is broken or older than
    CONN_MAX_AGE, so that reusing connections across tasks (CELERY_DB_REUSE_MAX) never hands a
    task a dead one. Not for a task run eagerly: it shares its caller's connection and transaction."""
    from django.db import close_old_connections

    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    close_old_connections()


@task_prerun.connect
def _workspace_scoping_on(sender: object = None, task_id: str | None = None, **_: object) -> None:
    """Every task runs with the workspace guard on (accounts/scoping.py), as a request does."""
    from accounts.scoping import enter_scoping

    _scoping_tokens[task_id or ""] = enter_scoping()


@task_postrun.connect
def _workspace_scoping_off(sender: object = None, task_id: str | None = None, **_: object) -> None:
    from accounts.scoping import leave_scoping

    token = _scoping_tokens.pop(task_id or "", None)
    if token is not None:
        leave_scoping(token)


_scoping_tokens: dict[str, Any] = {}
