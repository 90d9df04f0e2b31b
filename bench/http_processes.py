"""The HTTP benchmark's processes and storage (see ``bench_http.py``).

What it holds: the throw-away PostgreSQL database (created, dropped, the
connection parameters), the environment the settings read, ``manage.py``
set-up commands (``prepare_organisation`` runs inside Django through
``manage.py shell``), and starting, watching and stopping the Procfile's
processes (gunicorn, the projector ``run_projections`` and the worker
``qcluster``), each in a process group of its own.

It imports nothing from its siblings, so that Django can import it as
``bench.http_processes``.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
#: The throw-away database (``BENCH_HTTP_DATABASE`` to run two at once).
DATABASE = os.environ.get("BENCH_HTTP_DATABASE", "baton_bench_http")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/15"
SETTINGS = "bench.httpbase.settings"
#: The Procfile's web line.
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4
#: High enough that the benchmark never measures a 429.
THROTTLE_RATE = "100000000/min"


def _die_with_parent(sig: int) -> Callable[[], None]:
    """In the child before exec: get ``sig`` if the benchmark dies, so that
    nothing outlives it even if it is killed."""

    def preexec() -> None:
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, sig)  # PR_SET_PDEATHSIG

    return preexec


class Processes:
    """The processes the benchmark started, each in a process group of its
    own, stopped by signalling the group (then SIGKILL if it lingers)."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen[bytes], int]] = []

    def start(self, name: str, args: list[str], stop_signal: int) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(stop_signal),
        )
        log.close()
        self.started.append((name, process, stop_signal))

    def check_alive(self) -> None:
        for name, process, _ in self.started:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}:\n{self.log_tail(name)}"
                )

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        for _, process, stop_signal in reversed(self.started):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, stop_signal)
        deadline = time.monotonic() + 15
        for _, process, _ in reversed(self.started):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for _, process, _ in self.started:
            # Whatever is left of the group (workers of a master that is
            # gone, a stuck cluster) is killed.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        self.started.clear()


def postgres_conninfo(url: str, dbname: str | None = None) -> dict[str, Any]:
    import dj_database_url

    db = dj_database_url.parse(url)
    return {
        "dbname": dbname or db["NAME"],
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or "",
    }


def admin_connection(url: str) -> Any:
    import psycopg

    return psycopg.connect(**postgres_conninfo(url), autocommit=True)


def _drop_database(url: str) -> None:
    from psycopg import sql

    with admin_connection(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(DATABASE)
            )
        )


def redis_answers() -> bool:
    try:
        import redis

        client = redis.Redis.from_url(
            REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_environment(
    database_url: str, tmp_dir: Path, *, redis_on: bool
) -> dict[str, str]:
    """The environment the settings read (config/settings.py, config/env.py),
    with no local ``.env`` file: only what is set here and inherited."""
    import secrets

    env = dict(os.environ)
    for name in ("REDIS_URL", "Q_SYNC", "PORT"):
        env.pop(name, None)
    env.update(
        {
            "BATON_ENV_FILE": "",
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "API_THROTTLE_RATE": THROTTLE_RATE,
            "PUBLIC_THROTTLE_RATE": THROTTLE_RATE,
            "BATON_VAR_DIR": str(tmp_dir / "var"),
            "EVENTS_SQLITE_PATH": str(tmp_dir / "var" / "events.sqlite3"),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # SLA alerts are e-mailed by the worker: not to a real server.
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        }
    )
    if redis_on:
        env["REDIS_URL"] = REDIS_URL
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``manage.py ARGS`` to completion; its output, or an error with it."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout


def prepare_organisation() -> None:
    """Run inside Django (``manage.py shell -c``): the bench user, a member
    of every active department, and its API token; prints what the
    benchmark needs as one JSON line."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from departments.models import Department, Membership
    from departments.services import membership_create
    from tickets.application import get_tickets_application
    from tickets.models import ApiToken
    from tickets.projection_runner import projection_group

    user = get_user_model().objects.create_user(
        username="bench", first_name="Bench", last_name="Client", is_staff=True
    )
    departments = sorted(
        Department.objects.active(), key=lambda d: (not d.is_front_line, d.code)
    )
    for department in departments:
        membership_create(user=user, department=department, role=Membership.Role.AGENT)
    _, key = ApiToken.issue(user=user, name="bench-http")
    app = get_tickets_application()
    document = {
        "token": key,
        "departments": [d.code for d in departments],
        "front_line": next(d.code for d in departments if d.is_front_line),
        "events_table": app.recorder.events_table_name,
        "application": app.name,
        "groups": {
            name: [p.name for p in projection_group(name)]
            for name in settings.BATON_PROJECTION_GROUPS
        },
    }
    print("BENCH-SETUP " + json.dumps(document))


def setup_document(output: str) -> dict[str, Any]:
    for line in output.splitlines():
        if line.startswith("BENCH-SETUP "):
            return dict(json.loads(line.removeprefix("BENCH-SETUP ")))
    raise RuntimeError(f"The set-up printed no result:\n{output[-3000:]}")


def wait_for_web(processes: Processes, port: int, token: str) -> float:
    """Wait (at most 120 s) until gunicorn answers an API request; returns
    the seconds waited."""
    started = time.perf_counter()
    deadline = started + 120
    while True:
        processes.check_alive()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(
                "GET",
                "/api/v1/departments/",
                headers={"Authorization": f"Token {token}"},
            )
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        if time.perf_counter() > deadline:
            raise RuntimeError(f"gunicorn did not answer:\n{processes.log_tail('web')}")
        time.sleep(0.2)


def log_problems(log_dir: Path) -> dict[str, list[str]]:
    """Error lines the processes logged (LOG_LEVEL is WARNING)."""
    problems: dict[str, list[str]] = {}
    for path in sorted(log_dir.glob("*.log")):
        lines = [
            line
            for line in path.read_text(errors="replace").splitlines()
            if "Traceback" in line or " ERROR " in line or " CRITICAL " in line
        ]
        if lines:
            problems[path.stem] = [f"{len(lines)} lines", *lines[:5]]
    return problems


def postgres_url() -> str:
    """The server's URL from ``DATABASE_URL`` (PostgreSQL only)."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "bench-http runs on PostgreSQL: set DATABASE_URL to a postgres:// URL "
            f"(or leave it unset for {DEFAULT_DATABASE_URL})."
        )
    if urlsplit(url).path.strip("/") == DATABASE:
        raise SystemExit(f"DATABASE_URL must name a database other than {DATABASE}.")
    return url


@contextlib.contextmanager
def throwaway_database(url: str) -> Iterator[str]:
    """``DATABASE`` created afresh on the server of ``url`` (dropped first
    if it exists); yields its URL and drops it at the end."""
    from psycopg import sql

    _drop_database(url)
    with admin_connection(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{DATABASE}"))
    finally:
        _drop_database(url)


def gunicorn_command(port: int) -> list[str]:
    """The Procfile's web line, without the access log."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    program = (
        [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
    )
    return [
        *program,
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(GUNICORN_WORKERS),
        "--threads",
        str(GUNICORN_THREADS),
        "--graceful-timeout",
        "5",
    ]
