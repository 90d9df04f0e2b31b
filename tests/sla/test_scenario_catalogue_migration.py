"""``sla.0011_scenario_catalogue`` puts the free-text scenarios in use into
the catalogue: from ticket summaries, scorecard stints and the keys of
policy overrides, upper-cased, once each, with a readable name, a parent
for dotted codes, the usual back-office owner and a first version; what
the catalogue already has is left alone."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("sla", "0010_outcomes")]
AFTER = [("sla", "0011_scenario_catalogue")]
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _migrate(nodes: list[tuple[str, str]]) -> Any:
    """Migrate ``sla`` to ``nodes``, every other app to its latest; the
    historical apps registry there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    moving = {app for app, _ in nodes}
    targets = [
        node for node in executor.loader.graph.leaf_nodes() if node[0] not in moving
    ] + nodes
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def _summary(apps: Any, scenario: str) -> None:
    apps.get_model("tickets", "TicketSummary").objects.create(
        ticket_id=uuid.uuid4(),
        subject="Old ticket",
        customer_ref="C-1",
        channel="web",
        scenario=scenario,
        priority="normal",
        status="open",
        front_line="CS",
        owner="CS",
        owner_name="Customer Service",
        owner_since=AT,
        opened_at=AT,
        updated_at=AT,
        version=1,
        position=1,
    )


def _stint(apps: Any, scenario: str, department: str) -> None:
    apps.get_model("sla", "ScorecardHandoff").objects.create(
        id=uuid.uuid4(),
        ticket_id=uuid.uuid4(),
        department=department,
        kind="handoff",
        scenario=scenario,
        timezone="UTC",
        day=date(2026, 3, 2),
        week=date(2026, 3, 2),
        month=date(2026, 3, 1),
        received_at=AT,
        received_position=1,
    )


@pytest.mark.django_db(transaction=True)
def test_scenarios_in_use_become_the_catalogue() -> None:
    old = _migrate(BEFORE)
    departments = old.get_model("departments", "Department")
    for code, kind in (
        ("CS", "front_line"),
        ("FIN", "back_office"),
        ("LOG", "back_office"),
    ):
        departments.objects.create(code=code, name=code, kind=kind)
    scenarios = old.get_model("departments", "Scenario")
    scenarios.objects.create(code="FRAUD", name="Fraud (curated)", is_active=False)
    _summary(old, "refund")
    _summary(old, "REFUND")
    _summary(old, "REFUDN")  # the typo that was accepted
    _summary(old, "")
    _summary(old, "lost-parcel")
    _stint(old, "REFUND.DOUBLE", "FIN")
    _stint(old, "lost-parcel", "LOG")
    _stint(old, "lost-parcel", "LOG")
    _stint(old, "lost-parcel", "FIN")
    _stint(old, "lost-parcel", "CS")  # the front line never owns one
    _stint(old, "fraud", "FIN")
    policy = old.get_model("sla", "SLAPolicy").objects.create(
        department=departments.objects.get(code="FIN")
    )
    old.get_model("sla", "SLAPolicyVersion").objects.create(
        policy=policy,
        version=1,
        effective_from=AT,
        scenario_overrides={
            "chargeback": {"response": {"normal": 60}},
            "not a code!": {"response": {"normal": 60}},
        },
    )

    new = _migrate(AFTER)

    catalogue = {
        s.code: (
            s.name,
            s.is_active,
            s.owner.code if s.owner else "",
            s.parent.code if s.parent else "",
        )
        for s in new.get_model("departments", "Scenario").objects.all()
    }
    assert catalogue == {
        "REFUND": ("Refund", True, "", ""),
        "REFUDN": ("Refudn", True, "", ""),  # a lead deactivates it
        "REFUND.DOUBLE": ("Double", True, "FIN", "REFUND"),
        "LOST-PARCEL": ("Lost parcel", True, "LOG", ""),
        "CHARGEBACK": ("Chargeback", True, "", ""),
        "FRAUD": ("Fraud (curated)", False, "", ""),  # already there: kept
    }
    versions = new.get_model("departments", "ScenarioVersion").objects
    assert sorted(versions.values_list("scenario__code", "version")) == sorted(
        (code, 1) for code in catalogue if code != "FRAUD"
    )
    double = versions.get(scenario__code="REFUND.DOUBLE")
    assert (double.owner_code, double.parent_code, double.created_by) == (
        "FIN",
        "REFUND",
        None,
    )

    _migrate(BEFORE)  # and back: the catalogue stays
    assert old.get_model("departments", "Scenario").objects.count() == len(catalogue)
    _migrate(AFTER)  # and forward again: nothing doubles
    assert new.get_model("departments", "Scenario").objects.count() == len(catalogue)
