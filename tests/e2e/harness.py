"""A throwaway Baton deployment for end-to-end tests.

Each deployment has a database of its own (a temporary directory of SQLite
files, or a fresh PostgreSQL database plus a Redis database of its own),
migrated by ``manage.py migrate``, and runs the real processes of the
Procfile (gunicorn, ``manage.py run_projections``, ``manage.py qcluster``)
as subprocesses in production mode: ``DEBUG=0``, production settings, no
inline tasks. Nothing is shared with pytest-django's test database.

Every wait has a deadline; a timeout fails with the tail of every
process's output. Every process runs in a process group of its own, which
is killed when the deployment stops.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import email
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
T = TypeVar("T")

# Only these pass through from the test run's environment: anything else
# a developer's shell holds (DEBUG, DATABASE_URL, Q_SYNC from the test
# settings...) would change the deployment under test.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # Django's file-based backend
REDIS_CLAIM = "baton:e2e:claim"
PR_SET_PDEATHSIG = 1


def _die_with_the_test_run() -> None:  # pragma: no cover - runs in the child
    """Linux: SIGTERM the child when the test run dies, even by SIGKILL
    (no finalizer runs then), so no server or worker is left behind."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def deployment_env(root: Path) -> dict[str, str]:
    """The environment of every process of a deployment under ``root``
    (see config/settings.py and config/env.py for each variable)."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        # No local .env file (make run's DEBUG=1, a DATABASE_URL...).
        BATON_ENV_FILE="",
        PYTHONPATH=str(BASE_DIR),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_COOKIES="0",
        BATON_VAR_DIR=str(root / "var"),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(root / "mail"),
        # The test's webhook receiver listens on loopback.
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        SLA_SWEEP_MINUTES="1",
        API_THROTTLE_RATE="30/min",
        Q_SYNC="0",
        LOG_LEVEL="INFO",
    )
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self, tail: int = 6000) -> str:
        try:
            text = self.log.read_bytes().decode(errors="replace")
        except OSError:
            return ""
        return text[-tail:]

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the whole process group (gunicorn's and qcluster's
        children included), then SIGKILL after ``grace`` seconds."""
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; make sure no child outlives it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            return


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any

    def json(self) -> Any:
        return self.body


@dataclass
class Deployment:
    root: Path
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)
    web: list[str] = field(default_factory=list)
    seed: dict[str, Any] = field(default_factory=dict)

    @property
    def mail_dir(self) -> Path:
        return Path(self.env["EMAIL_FILE_PATH"])

    # -- running commands ------------------------------------------------------

    def run(self, *argv: str, timeout: float = 300) -> str:
        """Run a command to completion in the deployment's environment;
        its stdout, or a test failure with its output."""
        try:
            done = subprocess.run(
                argv,
                cwd=BASE_DIR,
                env=self.env,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            pytest.fail(f"{argv} did not finish in {timeout} s: {expired.output!r}")
        if done.returncode != 0:
            pytest.fail(
                f"{' '.join(argv)} exited {done.returncode}:\n"
                f"{done.stdout.decode(errors='replace')[-4000:]}\n"
                f"{done.stderr.decode(errors='replace')[-4000:]}"
            )
        return done.stdout.decode()

    def manage(self, *args: str, timeout: float = 300) -> str:
        return self.run(PYTHON, "manage.py", *args, timeout=timeout)

    def control(self, command: str) -> Any:
        """Run :mod:`tests.e2e.control` ``command`` inside the deployment."""
        out = self.run(PYTHON, "-m", "tests.e2e.control", command, timeout=120)
        return json.loads(out.strip().splitlines()[-1])

    # -- processes -------------------------------------------------------------

    def start(self, name: str, *argv: str) -> Process:
        log = self.root / f"{name}.log"
        with log.open("wb") as sink:
            popen = subprocess.Popen(
                argv,
                cwd=BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_the_test_run,
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_web(self, name: str) -> str:
        """A gunicorn server as the Procfile starts it (one worker process
        here); returns its base URL once it answers."""
        port = free_port()
        self.start(
            name,
            PYTHON,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--access-logfile",
            "-",
        )
        url = f"http://127.0.0.1:{port}"
        self.web.append(url)
        return url

    def wait_until_serving(self, url: str, timeout: float = 90) -> None:
        def answers() -> bool:
            try:
                # Anonymous: 401 once Django is up (and counts toward no
                # throttle: permissions are checked first).
                return http("GET", f"{url}/api/v1/departments/").status == 401
            except OSError:
                return False

        self.wait_for(f"{url} to serve", answers, timeout)

    def wait_for_output(self, process: Process, text: str, timeout: float = 90) -> None:
        self.wait_for(
            f"{process.name} to say {text!r}", lambda: text in process.output(), timeout
        )

    def wait_for(
        self,
        what: str,
        predicate: Callable[[], T],
        timeout: float,
        interval: float = 0.25,
    ) -> T:
        """Poll ``predicate`` until it returns something truthy; fail after
        ``timeout`` seconds, or at once if a process died, with every
        process's output."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            dead = [p.name for p in self.processes if not p.alive()]
            if dead:
                pytest.fail(
                    f"{', '.join(dead)} died waiting for {what}\n{self.report()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Timed out after {timeout} s waiting for {what}\n{self.report()}"
                )
            time.sleep(interval)

    def report(self) -> str:
        logs = "\n".join(
            f"----- {p.name} (exit {p.popen.poll()}) -----\n{p.output()}"
            for p in self.processes
        )
        return f"{logs}\n(logs, mail and SQLite files are kept in {self.root})"

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    # -- what the worker sent --------------------------------------------------

    def messages(self) -> list[Message]:
        """Every complete email the file-based backend wrote."""
        found = []
        if not self.mail_dir.exists():
            return found
        for path in sorted(self.mail_dir.iterdir()):
            chunks = path.read_bytes().split(MAIL_SEPARATOR)
            # The part after the last separator is empty unless a message
            # is still being written.
            found += [email.message_from_bytes(c) for c in chunks[:-1] if c.strip()]
        return found


def http(
    method: str,
    url: str,
    *,
    token: str = "",
    body: Any = None,
    timeout: float = 20,
) -> Response:
    """One HTTP request (JSON in and out); HTTP errors are responses too."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, headers, raw = answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
        error.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Response(status, headers, parsed)


# -- databases -------------------------------------------------------------------


@contextlib.contextmanager
def throwaway_database(suite_database: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Environment variables for a database nobody else uses, on the same
    engine as the test suite: nothing for SQLite (settings put the files
    under ``BATON_VAR_DIR``); for PostgreSQL a new database (dropped
    afterwards) and a Redis database claimed for the run (flushed
    afterwards), for the cache and django-q2's broker."""
    if "postgresql" not in suite_database.get("ENGINE", ""):
        yield {}
        return
    import psycopg
    from psycopg import sql

    name = f"baton_e2e_{secrets.token_hex(6)}"
    server = {
        "host": suite_database.get("HOST") or "127.0.0.1",
        "port": int(suite_database.get("PORT") or 5432),
        "user": suite_database.get("USER") or "postgres",
        "password": suite_database.get("PASSWORD") or "",
    }

    def admin(statement: sql.Composed) -> None:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as conn:
            conn.execute(statement)

    admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    auth = server["user"] + (f":{server['password']}" if server["password"] else "")
    try:
        with claimed_redis_database() as redis_url:
            yield {
                "DATABASE_URL": (
                    f"postgres://{auth}@{server['host']}:{server['port']}/{name}"
                ),
                "REDIS_URL": redis_url,
            }
    finally:
        admin(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


@contextlib.contextmanager
def claimed_redis_database() -> Iterator[str]:
    """A Redis database no other run uses: the first empty one (from 15
    down) where a claim key can be set; flushed when done. The settings
    have no cache key prefix, and django-q2's queue is named after the
    cluster, so two runs must not share a database."""
    import redis

    configured = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379")
    host, port = configured.hostname or "127.0.0.1", configured.port or 6379
    owner = secrets.token_hex(8)
    for number in range(15, 0, -1):
        client = redis.Redis(host=host, port=port, db=number, socket_timeout=5)
        try:
            if not client.set(REDIS_CLAIM, owner, nx=True, ex=3600):
                continue
        except redis.RedisError as error:
            pytest.fail(
                f"The PostgreSQL end-to-end run needs Redis at {host}:{port}: {error}"
            )
        if client.dbsize() != 1:  # something else lives here
            client.delete(REDIS_CLAIM)
            continue
        try:
            yield f"redis://{host}:{port}/{number}"
        finally:
            client.flushdb()
            client.close()
        return
    pytest.fail(f"No free Redis database at {host}:{port} for the end-to-end run")
