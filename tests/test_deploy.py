"""Production posture and the README's promises, checked on real processes.

- ``manage.py check --deploy`` has nothing to say under the production
  environment the README documents (parsed from the README itself).
- With ``DEBUG`` off the public development key is refused.
- Every page carries a Content-Security-Policy whose nonce is on every
  inline script and style the page relies on; a real browser shows the
  admin, the customer page and the API docs without a CSP violation.
- After the ``make run`` set-up (``.env`` written by the Makefile, migrate,
  demo), every ``manage.py`` command the README shows runs as written;
  Ctrl-C stops ``make run``'s processes cleanly within seconds.
- Management commands exit without the ``PostgresDatastore.__del__``
  traceback on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.browser import browser  # noqa: F401 - the fixture
from tests.helpers import Org
from tests.test_config import README, readme_variables
from tickets import services

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))
MANAGE = [PYTHON, str(ROOT / "manage.py")]


def section(markdown: str, title: str) -> str:
    """The text of the ``## title`` section (up to the next ``## ``)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", markdown, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any setting a test run or a
    developer's shell may hold (every variable of the README's table, the
    test settings module), plus ``extra``."""
    dropped = readme_variables() | {"DJANGO_SETTINGS_MODULE", "PORT"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> Any:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


# -- check --deploy under the README's production environment ---------------


def documented_production_env() -> dict[str, str]:
    """The ``NAME=value`` block of the README's Deploying section, with
    its ``<placeholders>`` filled in (a fresh random key for SECRET_KEY)."""
    deploying = section(README.read_text(encoding="utf-8"), "Deploying")
    blocks = re.findall(r"```sh\n(.*?)```", deploying, re.S)
    env_block = next(b for b in blocks if "SECRET_KEY=" in b)
    env: dict[str, str] = {}
    for line in env_block.splitlines():
        name, _, value = line.partition("=")
        if name == "SECRET_KEY":
            value = secrets.token_urlsafe(50)
        env[name] = re.sub(r"<[^>]*>", "example", value).replace(" ", "")
    return env


def check_deploy(env: dict[str, str], tmp_path: Path) -> Any:
    return run(
        [*MANAGE, "check", "--deploy", "--fail-level", "WARNING"],
        clean_env(BATON_ENV_FILE="", BATON_VAR_DIR=str(tmp_path), **env),
    )


def test_check_deploy_reports_nothing_under_the_documented_production_environment(
    tmp_path: Path,
) -> None:
    env = documented_production_env()
    assert env["DEBUG"] == "0"

    result = check_deploy(env, tmp_path)

    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("left_out", "warning"),
    [
        ("SECURE_HSTS_SECONDS", "security.W004"),
        ("SECURE_SSL_REDIRECT", "security.W008"),
    ],
)
def test_check_deploy_warns_when_an_https_setting_is_left_out(
    tmp_path: Path, left_out: str, warning: str
) -> None:
    env = documented_production_env()
    del env[left_out]

    result = check_deploy(env, tmp_path)

    assert result.returncode != 0
    assert warning in result.stderr


def import_settings(**env: str) -> Any:
    return run(
        [PYTHON, "-c", "import config.settings as s; print(s.SECURE_PROXY_SSL_HEADER)"],
        clean_env(BATON_ENV_FILE="", **env),
        timeout=60,
    )


def test_with_debug_off_the_public_development_key_is_refused() -> None:
    from config.settings import _INSECURE_DEV_KEY

    refused = import_settings(DEBUG="0", SECRET_KEY=_INSECURE_DEV_KEY)

    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "public development SECRET_KEY" in refused.stderr
    assert import_settings(DEBUG="1").returncode == 0  # the key DEBUG uses
    assert import_settings(DEBUG="0").returncode != 0  # no key at all


def test_the_proxy_ssl_header_comes_from_the_environment() -> None:
    behind_proxy = import_settings(
        DEBUG="1", SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https"
    )
    assert behind_proxy.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert import_settings(DEBUG="1").stdout.strip() == "None"
    malformed = import_settings(DEBUG="1", SECURE_PROXY_SSL_HEADER="https")
    assert "must be a header and a value" in malformed.stderr


# -- Content-Security-Policy -------------------------------------------------

PROJECT_TEMPLATES = [
    path
    for app in ("config", "tickets", "sla", "departments")
    for path in sorted((ROOT / app / "templates").rglob("*.html"))
]
# Stored report HTML is emailed and served as stored, with a policy of its
# own (sla/report_admin.py): a nonce cannot be known when it is generated.
STORED_REPORTS = {"report.html", "report_ratings.html"}
# Notification emails are never served: mail clients need inline styles.
MAIL_TEMPLATES = ROOT / "tickets" / "templates" / "tickets" / "mail"
NONCE_ATTR = 'nonce="{{ request.csp_nonce }}"'


def policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [d.strip().split() for d in header.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def inline_elements(html: str) -> list[str]:
    """Opening tags of inline scripts (no ``src``) and style elements."""
    tags = re.findall(r"<script\b[^>]*>|<style\b[^>]*>", html)
    return [t for t in tags if " src=" not in t]


def assert_inline_code_carries_the_nonce(response: Any) -> None:
    assert response.status_code == 200
    directives = policy(response)
    for kind in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in directives[kind]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    html = response.content.decode()
    tags = inline_elements(html)
    assert tags, "expected inline code on this page"
    nonces = {kind: directives[kind][-1] for kind in ("script-src", "style-src")}
    for tag in tags:
        kind = "script-src" if tag.startswith("<script") else "style-src"
        match = re.search(r'nonce="([^"]+)"', tag)
        assert match, f"inline code without a nonce: {tag}"
        assert nonces[kind] == f"'nonce-{match.group(1)}'"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_every_project_template_puts_the_nonce_on_its_inline_code() -> None:
    """A new template with an inline ``<script>``/``<style>``, a ``style``
    attribute or an ``onclick`` handler would be blocked by the policy."""
    checked = 0
    for path in PROJECT_TEMPLATES:
        if path.name in STORED_REPORTS or MAIL_TEMPLATES in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        for tag in inline_elements(text):
            checked += 1
            assert NONCE_ATTR in tag, f"{path}: {tag}"
        assert not re.search(r"\sstyle=\"", text), f"{path}: style attribute"
        assert not re.search(r"\son[a-z]+=", text), f"{path}: event handler"
    assert checked >= 6


@pytest.fixture
def customer_token(org: Org) -> str:
    opened = services.ticket_open(
        principal=org.agent("CS"),
        subject="Refund not received",
        customer_ref="CUST-1",
        customer_name="Dana Customer",
        customer_timezone="Europe/Paris",
        channel="web",
    )
    token: str = opened.detail["customer_token"]
    return token


def test_the_admin_customer_page_and_api_docs_carry_the_policy(
    org: Org, customer_token: str
) -> None:
    anonymous = Client()
    staff = Client()
    staff.force_login(org.agents["CS"])

    assert_inline_code_carries_the_nonce(staff.get("/admin/tickets/queueticket/"))
    assert_inline_code_carries_the_nonce(anonymous.get(f"/t/{customer_token}/"))
    assert_inline_code_carries_the_nonce(anonymous.get("/api/docs/"))
    login = anonymous.get("/admin/login/")
    assert login.status_code == 200
    assert policy(login)["script-src"] == ["'self'"]  # nothing inline there
    api = staff.get("/api/v1/tickets/")
    assert api.status_code == 200
    assert policy(api)["default-src"] == ["'self'"]


def test_each_response_has_a_nonce_of_its_own(org: Org, customer_token: str) -> None:
    first, second = (Client().get(f"/t/{customer_token}/") for _ in range(2))
    assert policy(first)["style-src"] != policy(second)["style-src"]


# Recorded in the page before any of its own code runs, so a violation by
# the page's first inline element is caught too.
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.mark.django_db(transaction=True)
def test_a_browser_runs_the_admin_customer_page_and_docs_under_the_policy(
    live_server: Any,
    browser: Any,  # noqa: F811
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.helpers import make_org

    org = make_org()
    token = services.ticket_open(
        principal=org.agent("CS"),
        subject="Refund not received",
        customer_ref="CUST-1",
        customer_name="Dana Customer",
        customer_timezone="Europe/Paris",
        channel="web",
    ).detail["customer_token"]
    browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": _RECORD_VIOLATIONS}
    )

    def violations() -> list[str]:
        return list(browser.execute_script("return window.__cspViolations || []"))

    base = live_server.url
    browser.get(f"{base}/admin/login/?next=/admin/tickets/queueticket/")
    browser.find_element(By.NAME, "username").send_keys("cs_agent")
    browser.find_element(By.NAME, "password").send_keys("pw-cs_agent")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "Work queue" in d.title)
    assert violations() == []
    # The queue's own stylesheet applied: the state badges are styled.
    browser.find_element(By.LINK_TEXT, "Refund not received").click()
    WebDriverWait(browser, 20).until(lambda d: "Work this ticket" in d.page_source)
    assert violations() == []

    browser.get(f"{base}/t/{token}/")
    assert "Customer Service" in browser.page_source
    body_margin = browser.execute_script(
        "return getComputedStyle(document.body).margin"
    )
    assert body_margin == "0px"  # the page's inline stylesheet applied
    assert violations() == []

    browser.get(f"{base}/api/docs/")
    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title")
    )
    assert "Baton API" in browser.find_element(By.CSS_SELECTOR, ".info .title").text
    assert violations() == []


# -- the make run set-up and the README's commands ---------------------------


@dataclass
class Checkout:
    """A ``make run`` set-up of this checkout on a temporary directory."""

    env_file: Path
    var_dir: Path
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Checkout:
    """What ``make run`` does before it starts the processes (write the
    local environment file, migrate, load the demo), through the Makefile,
    with the environment file and the SQLite files under a temporary
    directory and nothing else set."""
    tmp = tmp_path_factory.mktemp("checkout")
    env_file = tmp / ".env"
    env = clean_env(BATON_ENV_FILE=str(env_file), BATON_VAR_DIR=str(tmp / "var"))
    made = run(["make", "-s", "-o", "install", "demo"], env, timeout=300)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    return Checkout(env_file=env_file, var_dir=tmp / "var", env=env)


def test_make_run_writes_a_private_env_file_with_a_generated_key(
    checkout: Checkout,
) -> None:
    mode = stat.S_IMODE(checkout.env_file.stat().st_mode)
    assert mode == 0o600
    values = dict(
        line.split("=", 1)
        for line in checkout.env_file.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert values["DEBUG"] == "1"
    assert len(values["SECRET_KEY"]) >= 50
    assert values["SECRET_KEY"] != settings.SECRET_KEY


def readme_manage_commands() -> list[str]:
    """Every ``manage.py`` command the README shows outside its Deploying
    section (whose commands run under the production environment, checked
    above): lines of shell blocks and inline code spans, as written
    (``[optional arguments]`` included, without the brackets)."""
    text = README.read_text(encoding="utf-8")
    text = text.replace(section(text, "Deploying"), "")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        commands += [line for line in block.splitlines() if "manage.py" in line]
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    commands += [span for span in re.findall(r"`([^`]+)`", text) if "manage.py" in span]
    found = []
    for command in commands:
        words = shlex.split(command.replace("[", "").replace("]", ""), comments=True)
        words = words[words.index("manage.py") + 1 :]
        if words and shlex.join(words) not in found:
            found.append(shlex.join(words))
    return found


def test_the_readme_shows_the_commands_this_test_runs() -> None:
    commands = readme_manage_commands()
    assert 'issue_token --user cs_lead --name "CRM sync"'.replace('"', "'") in commands
    assert "audit_scorecards" in commands
    assert "audit_projections" in commands
    assert len(commands) >= 7


def test_every_readme_manage_command_runs_as_written_after_make_run(
    checkout: Checkout,
) -> None:
    failures = []
    for command in readme_manage_commands():
        done = run([*MANAGE, *shlex.split(command)], checkout.env, timeout=180)
        err, code = done.stderr, done.returncode
        if code != 0 or "Traceback" in err or "Exception ignored" in err:
            failures.append(f"manage.py {command}: exit {code}\n{err[-2000:]}")
    assert not failures, "\n\n".join(failures)


def _processes() -> dict[int, dict[str, Any]]:
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw.rsplit(")", 1)[1].split()
        found[int(entry)] = {"state": fields[0], "sid": int(fields[3])}
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_ctrl_c_stops_make_run_cleanly_within_seconds(checkout: Checkout) -> None:
    """``make run`` in a terminal of its own; Ctrl-C is SIGINT to the
    terminal's foreground process group (make, its shell and honcho).
    Every process it started, in whatever session, must be gone within a
    few seconds, each having stopped by itself (no SIGKILL from honcho)."""
    env = {
        **checkout.env,
        "PORT": str(_free_port()),
        "MAIL_GATEWAY_PORT": str(_free_port()),
    }
    make = subprocess.Popen(
        ["make", "-o", "demo", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(make.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    sessions = {make.pid}
    try:
        deadline = time.monotonic() + 60
        while not all(
            marker in "".join(lines)
            for marker in (
                "Listening at",
                "Following the event log",
                "running.",
                "Mail gateway listening on",
            )
        ):
            assert make.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        sessions |= {
            int(p) for p in re.findall(r"started \(pid=(\d+)\)", "".join(lines))
        }
        # make, web, projector, worker, mail gateway
        assert len(sessions) == 5, "".join(lines)
        started = [p for p, info in _processes().items() if info["sid"] in sessions]
        assert len(started) >= 10  # gunicorn's and django-q2's children too

        interrupted = time.monotonic()
        os.killpg(make.pid, signal.SIGINT)
        alive = started
        while alive and time.monotonic() - interrupted < 10:
            time.sleep(0.1)
            alive = [
                p
                for p, info in _processes().items()
                if info["sid"] in sessions and info["state"] != "Z"
            ]
        stopped_after = time.monotonic() - interrupted
        make.wait(timeout=10)
        reader.join(5)
    finally:  # whatever happened, leave nothing running
        for pid, info in _processes().items():
            if info["sid"] in sessions:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
    output = "".join(lines)
    assert alive == [], output
    assert stopped_after < 5, output
    assert "SIGKILL" not in output, output
    assert "has stopped." in output  # the task cluster shut down in order
    assert "Projector stopped." in output


_REPORTS_SIGNALS = """
import signal, sys, time
def report(signum, frame):
    print("got", signal.Signals(signum).name, flush=True)
    sys.exit(0)
signal.signal(signal.SIGINT, report)
signal.signal(signal.SIGTERM, report)
print("ready", flush=True)
time.sleep(30)
"""


def _launch_in_a_session() -> subprocess.Popen[str]:
    launcher = subprocess.Popen(
        [PYTHON, "-m", "config.process_group", PYTHON, "-c", _REPORTS_SIGNALS],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # as honcho starts each Procfile line
    )
    assert launcher.stdout is not None
    assert launcher.stdout.readline().strip() == "ready"
    return launcher


def test_the_worker_launcher_turns_sigterm_to_its_group_into_sigint() -> None:
    launcher = _launch_in_a_session()

    os.killpg(launcher.pid, signal.SIGTERM)  # what honcho sends

    out, _ = launcher.communicate(timeout=10)
    assert out.strip() == "got SIGINT"
    assert launcher.returncode == 0


def test_the_worker_launcher_leaves_nothing_running_when_killed() -> None:
    launcher = _launch_in_a_session()

    launcher.kill()

    assert launcher.stdout is not None
    assert launcher.stdout.readline().strip() == "got SIGINT"
    launcher.wait(timeout=10)


# -- the event store is closed before the interpreter shuts down -------------

# Registered before Django, so it runs after every atexit handler that
# Django set-up registered (atexit runs them last-in, first-out).
_REPORT_AT_EXIT = """
import atexit
def report():
    from tickets import application
    print("open at exit" if application._instance is not None else "closed at exit")
atexit.register(report)
import django
django.setup()
from tickets.application import get_tickets_application
get_tickets_application()
"""


def test_the_process_wide_application_is_closed_before_shutdown(
    tmp_path: Path,
) -> None:
    """Left to garbage collection at interpreter shutdown, the PostgreSQL
    datastore's ``__del__`` runs after the modules it needs are torn down
    and prints "Exception ignored in PostgresDatastore.__del__" (whether it
    does depends on teardown order, so the contract is checked directly)."""
    done = run(
        [PYTHON, "-c", _REPORT_AT_EXIT],
        clean_env(
            BATON_ENV_FILE="",
            BATON_VAR_DIR=str(tmp_path),
            DEBUG="1",
            DJANGO_SETTINGS_MODULE="config.settings",
        ),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "closed at exit"
    assert "Exception ignored" not in done.stderr


# -- no datastore traceback at exit (PostgreSQL) -----------------------------


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    """A migrated PostgreSQL database of its own, on the server of the
    suite's ``DATABASE_URL`` (PostgreSQL runs only)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("PostgreSQL only: set DATABASE_URL=postgres://... (CI does)")
    import psycopg

    name = f"baton_deploy_{uuid.uuid4().hex[:12]}"
    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_management_commands_exit_without_a_datastore_traceback(
    scratch_postgres: str,
) -> None:
    env = clean_env(
        BATON_ENV_FILE="",
        DATABASE_URL=scratch_postgres,
        DEBUG="1",
    )
    migrated = run([*MANAGE, "migrate", "--no-input"], env, timeout=300)
    assert migrated.returncode == 0, migrated.stderr

    for command in (
        ["audit_projections"],
        ["run_projections", "--once"],
        ["rebuild_projections"],
    ):
        done = run([*MANAGE, *command], env)
        assert done.returncode == 0, done.stderr
        assert "Exception ignored" not in done.stderr, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
