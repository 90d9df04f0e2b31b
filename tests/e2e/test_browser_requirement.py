"""The browser tests (real Chromium against a live server) may be left out
on a developer's machine without Chromium, never in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import browser


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", "/nonexistent/chromium")


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_a_missing_chromium_fails_the_browser_tests_in_ci(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="chromium-driver"):
        browser.require_browser()


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_a_missing_chromium_skips_the_browser_tests_elsewhere(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="chromium-driver"):
        browser.require_browser()


def test_an_installed_chromium_runs_the_browser_tests_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("CHROMIUM", "CHROMEDRIVER"):
        path = tmp_path / name.lower()
        path.write_text("")
        monkeypatch.setattr(browser, name, str(path))
    monkeypatch.setenv("CI", "true")
    browser.require_browser()  # neither skips nor fails
