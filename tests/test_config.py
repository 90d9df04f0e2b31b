"""Twelve-factor configuration parsing."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from config import env


def test_database_url_selects_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:6543/baton")
    config = env.database_config()
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == (
        "db.example",
        6543,
        "baton",
    )
    assert config["CONN_MAX_AGE"] == 60


def test_the_default_is_sqlite_tuned_for_several_processes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = env.database_config()
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["timeout"] == 20


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("0", False), ("", False)]
)
def test_booleans(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env.env_bool("SOME_FLAG") is expected


def test_a_malformed_boolean_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG_X", "maybe")
    with pytest.raises(ValueError, match="DEBUG_X must be a boolean"):
        env.env_bool("DEBUG_X")


def test_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS_X", "a.example, b.example,,")
    assert env.env_list("ALLOWED_HOSTS_X", []) == ["a.example", "b.example"]


# -- the local environment file (.env) ---------------------------------------

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def test_an_env_file_fills_in_only_what_the_environment_does_not_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# a comment\n\nexport SOME_KEY='from file'\nOTHER_KEY=\"quoted\"\n"
        "SET_KEY=from file\n"
    )
    monkeypatch.delenv("SOME_KEY", raising=False)
    monkeypatch.delenv("OTHER_KEY", raising=False)
    monkeypatch.setenv("SET_KEY", "explicit")

    assert env.load_env_file(path) == ["SOME_KEY", "OTHER_KEY"]
    assert os.environ["SOME_KEY"] == "from file"
    assert os.environ["OTHER_KEY"] == "quoted"
    assert os.environ["SET_KEY"] == "explicit"
    assert env.load_env_file(tmp_path / "missing") == []


def test_a_malformed_env_file_line_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("DEBUG=1\nnot a setting\n")
    with pytest.raises(ValueError, match=r"\.env:2: expected NAME=value"):
        env.read_env_file(path)


def test_the_local_env_file_is_git_ignored_and_at_the_project_root() -> None:
    assert env.LOCAL_ENV_FILE == ROOT / ".env"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0


def _settings_in_a_checkout(
    tmp_path: Path, env_file: str | None, module: str = "config.settings", **extra: str
) -> dict[str, Any]:
    """Import a copy of this project's settings from a temporary checkout
    (so that its ``.env`` is the temporary one) in a fresh interpreter with
    only ``extra`` set; return a few resulting settings."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "config", checkout / "config")
    if env_file is not None:
        (checkout / ".env").write_text(env_file)
    script = (
        "import json, importlib, sys\n"
        f"s = importlib.import_module({module!r})\n"
        "print(json.dumps({'DEBUG': s.DEBUG, 'SECRET_KEY': s.SECRET_KEY,"
        " 'DB': str(s.DATABASES['default']['NAME'])}))\n"
    )
    inherited = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=checkout,
        env={
            **inherited,
            "PYTHONPATH": str(checkout),
            "BATON_VAR_DIR": str(tmp_path / "var"),
            **extra,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        return {"error": done.stderr}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


LOCAL_ENV = "DEBUG=1\nSECRET_KEY=from-the-local-env-file\n"


def test_settings_read_the_local_env_file(tmp_path: Path) -> None:
    loaded = _settings_in_a_checkout(tmp_path, LOCAL_ENV)
    assert loaded == {
        "DEBUG": True,
        "SECRET_KEY": "from-the-local-env-file",
        "DB": str(tmp_path / "var" / "db.sqlite3"),
    }


def test_an_explicit_variable_wins_over_the_local_env_file(tmp_path: Path) -> None:
    loaded = _settings_in_a_checkout(tmp_path, LOCAL_ENV, SECRET_KEY="explicit")
    assert (loaded["DEBUG"], loaded["SECRET_KEY"]) == (True, "explicit")


def test_without_a_local_env_file_settings_behave_as_before(tmp_path: Path) -> None:
    refused = _settings_in_a_checkout(tmp_path, None)
    assert "SECRET_KEY must be set when DEBUG is off" in refused["error"]
    assert _settings_in_a_checkout(tmp_path / "b", None, DEBUG="1")["DEBUG"] is True


@pytest.mark.parametrize("hours", ["0", "-1", "nan", "inf", "100000"])
def test_follow_up_due_hours_must_be_a_sane_positive_number(
    tmp_path: Path, hours: str
) -> None:
    """A rating of 1-2 opens a follow-up due this many hours later: nan or
    inf would fail every such rating, a negative one make it overdue at
    once, so settings refuse them."""
    refused = _settings_in_a_checkout(tmp_path, LOCAL_ENV, FOLLOWUP_DUE_HOURS=hours)
    assert "FOLLOWUP_DUE_HOURS must be a positive number" in refused["error"]
    accepted = _settings_in_a_checkout(
        tmp_path / "ok", LOCAL_ENV, FOLLOWUP_DUE_HOURS="2.5"
    )
    assert "error" not in accepted


def test_the_test_settings_ignore_a_local_env_file(tmp_path: Path) -> None:
    """A developer's .env (DEBUG=1, another database) does not change what
    the suite runs on; DATABASE_URL given explicitly still does."""
    local = "DEBUG=1\nSECRET_KEY=local\nDATABASE_URL=sqlite:////tmp/not-the-suite.db\n"

    loaded = _settings_in_a_checkout(tmp_path, local, module="config.settings_test")
    explicit = _settings_in_a_checkout(
        tmp_path / "b",
        local,
        module="config.settings_test",
        DATABASE_URL="sqlite:////tmp/explicit.db",
    )

    assert loaded["DEBUG"] is False
    assert loaded["SECRET_KEY"] == "test-only-secret-key-not-for-production"
    assert loaded["DB"] == str(tmp_path / "var" / "db.sqlite3")
    assert explicit["DB"] == "/tmp/explicit.db"


# -- the README's configuration table ----------------------------------------

ENV_READERS = {"env_str", "env_bool", "env_int", "env_list"}


def variables_read_by_settings() -> set[str]:
    """Every environment variable named in config/settings.py and
    config/env.py: ``env_*("NAME", ...)`` calls and ``os.environ`` reads
    (``.get``, ``[...]``, ``.setdefault``, ``in``)."""
    names: set[str] = set()
    for path in (ROOT / "config" / "settings.py", ROOT / "config" / "env.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            literal: ast.expr | None = None
            if isinstance(node, ast.Call):
                func = node.func
                reads = (
                    isinstance(func, ast.Name) and func.id in ENV_READERS
                ) or ast.unparse(func) in {
                    "os.environ.get",
                    "os.environ.setdefault",
                    "os.environ.pop",
                    "os.getenv",
                }
                if reads and node.args:
                    literal = node.args[0]
            elif (
                isinstance(node, ast.Subscript)
                and ast.unparse(node.value) == "os.environ"
            ):
                literal = node.slice
            elif (
                isinstance(node, ast.Compare)
                and isinstance(node.ops[0], ast.In | ast.NotIn)
                and ast.unparse(node.comparators[0]) == "os.environ"
            ):
                literal = node.left
            if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                names.add(literal.value)
    return names


def readme_variables() -> set[str]:
    """The variables named in the first column of the README's
    configuration table."""
    text = README.read_text(encoding="utf-8")
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def test_the_scan_finds_variables_however_they_are_read() -> None:
    found = variables_read_by_settings()
    assert {"DATABASE_URL", "SECRET_KEY", "Q_WORKERS", "BATON_VAR_DIR"} <= found
    assert {"CSRF_TRUSTED_ORIGINS", "SECURE_COOKIES", "BATON_ENV_FILE"} <= found


def test_the_readme_table_lists_every_variable_the_settings_read() -> None:
    missing = variables_read_by_settings() - readme_variables()
    assert not missing, f"add to the README's configuration table: {sorted(missing)}"


def test_the_readme_table_lists_the_variables_being_added_elsewhere() -> None:
    assert {
        "WEBHOOK_ALLOWED_NETWORKS",
        "EMAIL_FILE_PATH",
        "EVENT_CHECKPOINT_FILE",
        "EVENT_CHECKPOINT_MINUTES",
    } <= readme_variables()
