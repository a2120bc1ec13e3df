"""Tasks register through CELERY_IMPORTS: a worker that imports nothing else still knows every task."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SKIP = {".git", ".venv", ".data", ".bench", "tests", "migrations", "node_modules", "staticfiles"}

# Run in a fresh interpreter: in this one the test suite has imported every task module already, and a
# shared task joins every app that exists once its module is imported, so nothing would be proved here.
_FRESH_WORKER = """
import json, sys
import django
django.setup()
task_modules = set(json.loads(sys.argv[1]))
imported_by_setup = sorted(task_modules & set(sys.modules))
from celery import Celery
app = Celery("fresh")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.loader.import_default_modules()
print(json.dumps({"imported_by_setup": imported_by_setup, "registered": sorted(app.tasks)}))
"""


def _is_shared_task(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Name) and target.id == "shared_task") or (
        isinstance(target, ast.Attribute) and target.attr == "shared_task"
    )


def _task_name(module: str, function: ast.FunctionDef, decorator: ast.expr) -> str:
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
    return f"{module}.{function.name}"


def shared_tasks_in_source() -> dict[str, str]:
    """Every `@shared_task` of the project, read from the source: {task name: module}."""
    tasks: dict[str, str] = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if SKIP & set(relative.parts):
            continue
        module = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        try:
            source = path.read_text()
        except FileNotFoundError:  # moved away while the tree was walked
            continue
        for node in ast.walk(ast.parse(source, str(path))):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    if _is_shared_task(decorator):
                        tasks[_task_name(module, node, decorator)] = module
    return tasks


def _fresh_worker(task_modules: set[str]) -> dict[str, list[str]]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", _FRESH_WORKER, json.dumps(sorted(task_modules))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_source_scan_finds_the_known_tasks() -> None:
    tasks = shared_tasks_in_source()
    assert "accounts.tasks.record_heartbeat" in tasks
    assert "attribution.csv_tasks.run_csv_import" in tasks  # a task with an explicit name


def test_celery_imports_names_every_task_module_and_nothing_else() -> None:
    assert set(settings.CELERY_IMPORTS) == set(shared_tasks_in_source().values())


def test_every_shared_task_is_registered_in_a_fresh_celery_app_built_from_settings() -> None:
    tasks = shared_tasks_in_source()
    worker = _fresh_worker(set(tasks.values()))
    assert sorted(set(tasks) - set(worker["registered"])) == []
    # No model, app config or admin imports a task module to register it: only CELERY_IMPORTS does.
    assert worker["imported_by_setup"] == []


def test_every_scheduled_task_exists() -> None:
    tasks = shared_tasks_in_source()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert sorted(scheduled - set(tasks)) == []
