"""`make test-api`: schemathesis, every check, against a served Tandem on a fresh database.

    python -m tests.api_fuzz [--max-examples N]

Makes an empty database beside the configured one (DATABASE_URL, or the embedded server of
TANDEM_DATA_DIR), migrates it, creates a workspace with an API key, serves it with runserver on a
free port, runs schemathesis with tests/api_fuzz/schemathesis.toml, and stops the server. Exits
with schemathesis's status: 0 when it found no failure.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FUZZ_DB = "tandem_api_fuzz"


def _fresh_database_url() -> str:
    """An empty database on the server Tandem is configured for, as a URL the server process can use."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.db import connection

    django.setup()
    params = connection.settings_dict
    import psycopg

    # From the server's own `postgres` database: the configured one need not exist (on a fresh CI
    # machine only pytest's test_… databases do), and DROP/CREATE cannot run inside the one dropped.

    with psycopg.connect(
        dbname="postgres",
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [FUZZ_DB])
        admin.execute(f'DROP DATABASE IF EXISTS "{FUZZ_DB}"')
        admin.execute(f'CREATE DATABASE "{FUZZ_DB}"')
    user = quote(params["USER"] or "", safe="")
    password = f":{quote(params['PASSWORD'], safe='')}" if params["PASSWORD"] else ""
    host = params["HOST"] or ""
    if host.startswith("/"):  # a socket directory (the embedded server): as a query parameter
        return f"postgres://{user}{password}@/{FUZZ_DB}?host={quote(host, safe='')}&port={params['PORT'] or 5432}"
    return f"postgres://{user}{password}@{host}:{params['PORT'] or 5432}/{FUZZ_DB}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"Tandem did not answer {url} within {seconds:.0f} s") from None
            time.sleep(0.3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=10)
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": _fresh_database_url(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    made = subprocess.run(
        [
            *manage,
            "create_workspace",
            "--slug",
            "st",
            "--name",
            "St",
            "--owner-email",
            "o@st.test",
            "--domain",
            "shop.st.test",
            "--api-key",
        ],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    key = made.stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        schema = f"http://127.0.0.1:{port}/api/v1/openapi.json"
        _wait_for(schema)
        command = [
            str(Path(python).parent / "schemathesis"),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            schema,
            "--checks",
            "all",
            "-H",
            f"Authorization: Bearer {key}",
            "--max-examples",
            str(args.max_examples),
            "--seed",
            "11",
        ]
        return subprocess.run(command, cwd=ROOT).returncode
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
