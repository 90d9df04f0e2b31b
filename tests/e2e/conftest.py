"""One throwaway deployment per test module, with every process running:
two web servers, the projector and the worker (see ``harness``)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.e2e.harness import PYTHON, Deployment, deployment_env, throwaway_database


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: starts Baton's real processes (about a minute per module)"
    )


@pytest.fixture(scope="module")
def baton(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    """A migrated, seeded deployment (see ``tests.e2e.control.seed``) on
    the suite's database engine, with two gunicorn servers, the projector
    and the worker running. Everything is stopped and dropped afterwards;
    the directory (logs, mail, SQLite files) is kept if a test failed."""
    # Not under pytest's basetemp: other pytest runs on the machine prune
    # old basetemps, which would delete a running deployment's files.
    root = Path(tempfile.mkdtemp(prefix="baton-e2e-"))
    failed_before = request.session.testsfailed
    with throwaway_database(settings.DATABASES["default"]) as database_env:
        deployment = Deployment(root, {**deployment_env(root), **database_env})
        try:
            deployment.manage("migrate", "--no-input")
            deployment.seed = deployment.control("seed")
            issued = deployment.manage(
                "issue_token", "--user", "cs_lead", "--name", "Webhook admin"
            )
            deployment.seed["tokens"]["cs_lead"] = issued.splitlines()[1].strip()
            urls = [deployment.start_web("web-1"), deployment.start_web("web-2")]
            projector = deployment.start(
                "projector", PYTHON, "manage.py", "run_projections"
            )
            worker = deployment.start("worker", PYTHON, "manage.py", "qcluster")
            for url in urls:
                deployment.wait_until_serving(url)
            deployment.wait_for_output(projector, "Following the event log")
            deployment.wait_for_output(worker, "running.")
            yield deployment
        finally:
            deployment.stop()
    if request.session.testsfailed == failed_before:
        shutil.rmtree(root, ignore_errors=True)
