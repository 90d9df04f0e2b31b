"""The layout rules the build enforces: the apps form one stack (an
import-linter contract makes ``make lint`` fail on any arrow that points
up), and no source module grows past what a newcomer can read."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "sla", "tickets", "departments")
MAX_LINES = 800


def _tracked_python_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True
    )
    if listed.returncode != 0:  # not a checkout: walk the tree instead
        return [
            p
            for p in ROOT.rglob("*.py")
            if not {".venv", "node_modules"} & set(p.parts)
        ]
    return [ROOT / name for name in listed.stdout.split()]


def test_no_source_module_is_over_800_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _tracked_python_files()
        if "migrations" not in path.parts
        and path.exists()
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def _lint_imports_with(tmp_path: Path, module: str, line: str) -> str:
    """Run the project's import contracts on a copy of the apps in which
    ``module`` gained ``line``; returns what lint-imports printed."""
    for app in APPS:
        shutil.copytree(
            ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / (module.replace(".", "/") + ".py")
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n")
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": str(lint.parent)},
    )
    return f"exit {result.returncode}\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("tickets.selectors", "from sla import models as _probe"),
        ("departments.selectors", "from tickets import clock as _probe"),
        ("departments.models", "import sla.terms as _probe"),
        ("tickets.api.problem", "from config import settings as _probe"),
    ],
)
def test_an_import_up_the_stack_fails_the_lint(
    tmp_path: Path, module: str, line: str
) -> None:
    output = _lint_imports_with(tmp_path, module, line)
    assert output.startswith("exit 1"), output
    assert (
        "Apps form one stack: config over sla over tickets over departments BROKEN"
        in (output)
    )


def test_the_stack_as_it_is_passes(tmp_path: Path) -> None:
    output = _lint_imports_with(tmp_path, "sla.terms", "from tickets import clock")
    assert output.startswith("exit 0"), output
