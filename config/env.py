"""Twelve-factor configuration: every setting that differs between
deployments is read from the environment here, and nowhere else.

A local environment file (``.env`` at the project root, written by ``make
run`` with a generated ``SECRET_KEY`` and ``DEBUG=1``) fills in variables
the real environment does not set, so that ``manage.py`` commands run as
written in a developer's checkout. ``BATON_ENV_FILE`` names another file,
or, empty, none (the test settings use that).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_ENV_FILE = BASE_DIR / ".env"


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of an environment file; blank lines and ``#``
    comments are skipped, an ``export`` prefix and matching quotes around
    the value are removed. A missing file is empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, sep, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name.isidentifier():
            raise ValueError(f"{path}:{number}: expected NAME=value, got {raw!r}")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def load_env_file(path: Path) -> list[str]:
    """Set the file's variables that the environment does not already set
    (an explicit variable always wins); returns the names set."""
    loaded = []
    for name, value in read_env_file(path).items():
        if name not in os.environ:
            os.environ[name] = value
            loaded.append(name)
    return loaded


_env_file = os.environ.get("BATON_ENV_FILE", str(LOCAL_ENV_FILE))
# Names this process took from the file (the test settings check it is none).
LOADED_FROM_ENV_FILE = load_env_file(Path(_env_file)) if _env_file else []

VAR_DIR = Path(os.environ.get("BATON_VAR_DIR", BASE_DIR / "var"))

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_config() -> dict[str, Any]:
    """The default database from ``DATABASE_URL``; SQLite under ``var/``
    when unset.

    SQLite is tuned so that web, projector and worker processes can share
    the file: WAL journal, a busy timeout, and IMMEDIATE transactions so
    concurrent writers queue instead of failing with "database is locked".
    """
    default_url = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    config: dict[str, Any] = dict(
        dj_database_url.parse(
            env_str("DATABASE_URL", default_url) or default_url,
            conn_max_age=env_int("CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = str(config.get("NAME") or "")
        if name and name != ":memory:" and not name.startswith("file:"):
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON;"
            ),
        }
        # SQLite connections are cheap, and a persistent connection kept by
        # a long-lived thread would pin an old WAL snapshot.
        config["CONN_MAX_AGE"] = 0
    return config
