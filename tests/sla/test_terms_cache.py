"""Policy and calendar versions are read once per process and kept until a
version is added anywhere: starting a clock then reads no version table,
and a new version (this process's or another's) applies to the next clock
started after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla import services as sla_services
from sla.models import SLAPolicy, SLAPolicyVersion
from sla.terms import PolicySLAPort, versions_changed
from tests.helpers import Org
from tests.sla.conftest import z

H = timedelta(hours=1)


def _finance_terms(port: PolicySLAPort) -> Any:
    return port.terms(
        kind="response",
        department="FIN",
        priority="normal",
        scenario="",
        start=z("2026-03-02 02:00"),
    )


def _version_queries(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if "sla_slapolicyversion" in q["sql"] or "sla_calendarversion" in q["sql"]
    ]


def _another_process_adds_finance_v2(org: Org) -> None:
    """Version 2 of Finance's policy (2 h), written as another process would:
    the row only, no change notice here."""
    SLAPolicyVersion.objects.create(
        policy=SLAPolicy.objects.get(department=org.departments["FIN"]),
        version=2,
        effective_from=z("2026-03-01 00:00"),
        response_normal=2 * H,
    )


def test_starting_clocks_reads_the_versions_once(sla_org: Org) -> None:
    port = PolicySLAPort()
    first = _finance_terms(port)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert _finance_terms(port) == first
    assert _version_queries(queries) == []
    assert (first.policy_version, first.target_seconds) == (1, 4 * H.seconds)


def test_a_version_added_here_applies_to_the_next_clock(sla_org: Org) -> None:
    port = PolicySLAPort()
    assert _finance_terms(port).policy_version == 1
    sla_services.policy_version_create(
        department=sla_org.departments["FIN"],
        response_normal=H,
        effective_from=z("2026-03-01 00:00"),
    )
    terms = _finance_terms(port)
    assert (terms.policy_version, terms.target_seconds) == (2, H.seconds)


def test_a_version_another_process_added_applies_once_it_says_so(
    sla_org: Org,
) -> None:
    """Another process writes the row and publishes the change (through the
    shared cache); until it does, this process keeps what it read."""
    port = PolicySLAPort()
    assert _finance_terms(port).policy_version == 1
    _another_process_adds_finance_v2(sla_org)
    assert _finance_terms(port).policy_version == 1  # not told yet: cached
    versions_changed()
    terms = _finance_terms(port)
    assert (terms.policy_version, terms.target_seconds) == (2, 2 * H.seconds)


def test_without_the_shared_cache_every_clock_reads_the_versions(
    sla_org: Org, settings: Any
) -> None:
    """A cache that is down (or evicted the generation) never matches, so
    nothing stale is used: the versions are read each time."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    }
    port = PolicySLAPort()
    _finance_terms(port)
    with CaptureQueriesContext(connection) as queries:
        _finance_terms(port)
    assert len(_version_queries(queries)) == 2


def test_a_lost_change_notice_lasts_at_most_the_versions_max_age(
    sla_org: Org, monkeypatch: Any
) -> None:
    """If the notice never arrives (the cache was down when it was sent),
    the versions are read again once they are older than the max age."""
    from sla import terms

    port = PolicySLAPort()
    assert _finance_terms(port).policy_version == 1
    _another_process_adds_finance_v2(sla_org)
    assert _finance_terms(port).policy_version == 1
    monkeypatch.setattr(terms, "VERSIONS_MAX_AGE", 0.0)
    assert _finance_terms(port).policy_version == 2
