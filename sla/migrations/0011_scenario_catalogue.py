"""Put the scenarios in use into the catalogue.

Scenarios used to be free text. Every distinct non-empty value of
``tickets.TicketSummary.scenario``, ``sla.ScorecardHandoff.scenario`` and
the keys of ``sla.SLAPolicyVersion.scenario_overrides`` becomes an active
``departments.Scenario`` (its code upper-cased), with a readable name and a
first version, unless the catalogue has it already. A dotted code sits
below its prefix when that is a scenario too (``REFUND.DOUBLE`` below
``REFUND``); the owner is the back-office department that received most
stints of the scenario, if any did. A typo that was accepted before
(``REFUDN``) comes in too: a front-line lead deactivates it in the admin.

Reversing deletes nothing: the catalogue may have been edited since.
"""

import re
from collections import Counter

from django.db import migrations

#: departments.models.SCENARIO_CODE_PATTERN (as it was when this was written).
CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,63}$")


def readable_name(code):
    """``LOST_PARCEL`` -> "Lost parcel"; ``REFUND.DOUBLE-CHARGE`` ->
    "Double charge" (the last part: the parent says the rest)."""
    last = code.rsplit(".", 1)[-1] or code
    words = re.sub(r"[_.-]+", " ", last).strip() or code
    return words[:1].upper() + words[1:].lower()


def codes_in_use(apps):
    summary = apps.get_model("tickets", "TicketSummary")
    handoff = apps.get_model("sla", "ScorecardHandoff")
    policy_version = apps.get_model("sla", "SLAPolicyVersion")
    found = set()
    for model in (summary, handoff):
        found.update(
            model.objects.exclude(scenario="")
            .values_list("scenario", flat=True)
            .distinct()
        )
    for overrides in policy_version.objects.values_list(
        "scenario_overrides", flat=True
    ):
        if isinstance(overrides, dict):
            found.update(str(key) for key in overrides)
    codes = {str(value).strip().upper() for value in found}
    return sorted(code for code in codes if CODE.match(code))


def usual_owners(apps, codes):
    """Per code, the back-office department that received most stints."""
    department = apps.get_model("departments", "Department")
    handoff = apps.get_model("sla", "ScorecardHandoff")
    back_office = {d.code: d for d in department.objects.filter(kind="back_office")}
    counts = {}
    for scenario, code in handoff.objects.exclude(scenario="").values_list(
        "scenario", "department"
    ):
        if code in back_office:
            counts.setdefault(scenario.strip().upper(), Counter())[code] += 1
    owners = {}
    for scenario, counter in counts.items():
        if scenario in codes:
            # Most stints first, then the code: deterministic on a tie.
            best = min(counter.items(), key=lambda item: (-item[1], item[0]))[0]
            owners[scenario] = back_office[best]
    return owners


def forward(apps, schema_editor):
    scenario_model = apps.get_model("departments", "Scenario")
    version_model = apps.get_model("departments", "ScenarioVersion")
    codes = codes_in_use(apps)
    existing = set(scenario_model.objects.values_list("code", flat=True))
    owners = usual_owners(apps, set(codes))
    created = {}
    # Shortest first, so a prefix exists before the codes below it.
    for code in sorted((c for c in codes if c not in existing), key=len):
        parent_code = next(
            (
                code[:i]
                for i in range(len(code) - 1, 0, -1)
                if code[i] == "." and (code[:i] in created or code[:i] in existing)
            ),
            "",
        )
        parent = (
            created.get(parent_code)
            or scenario_model.objects.filter(code=parent_code).first()
            if parent_code
            else None
        )
        owner = owners.get(code)
        scenario = scenario_model.objects.create(
            code=code,
            name=readable_name(code),
            description="Added from the free-text scenarios in use.",
            is_active=True,
            owner=owner,
            parent=parent,
        )
        version_model.objects.create(
            scenario=scenario,
            version=1,
            name=scenario.name,
            description=scenario.description,
            is_active=True,
            owner_code=owner.code if owner else "",
            parent_code=parent.code if parent else "",
        )
        created[code] = scenario


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0010_outcomes"),
        ("departments", "0004_scenarios"),
        ("tickets", "0011_public_event_names"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
