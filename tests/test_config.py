"""Twelve-factor configuration parsing."""

from __future__ import annotations

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
