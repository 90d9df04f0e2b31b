"""Set-up and inspection inside a throwaway deployment.

Run as ``python -m tests.e2e.control <command>`` with the deployment's
environment (production settings, its own database), so the end-to-end
tests reach the deployment's state through Baton's own services and models
instead of pytest-django's test database. Prints one JSON document.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from typing import Any

SWEEP = "sla.tasks.sweep_sla_clocks"

# code, name, kind; every department works round the clock (no calendar).
DEPARTMENTS = [
    ("CS", "Customer Service", "front_line"),
    ("FIN", "Finance", "back_office"),
    ("LOG", "Logistics", "back_office"),
]
# username, department, role
STAFF = [
    ("cs_agent", "CS", "agent"),
    ("cs_lead", "CS", "lead"),
    ("fin_agent", "FIN", "agent"),
    ("fin_lead", "FIN", "lead"),
    ("log_agent", "LOG", "agent"),
]
#: Finance must answer within two seconds: a handoff to Finance is overdue
#: almost at once. Logistics has no policy (no clocks).
FINANCE_RESPONSE_TARGET = timedelta(seconds=2)


def seed() -> dict[str, Any]:
    """Departments, staff (with email addresses) and Finance's policy;
    integration tokens for the tests. The SLA sweep's schedule is pushed a
    day out: it runs when a test makes it due (:func:`sweep_due`), so no
    sweep can land between a clock's warning and due times."""
    from django.contrib.auth.models import User
    from django_q.models import Schedule

    from departments.models import Department
    from departments.services import membership_create
    from sla.services import policy_version_create
    from tickets import clock
    from tickets.models import ApiToken

    now = clock.now()
    departments = {
        code: Department.objects.create(code=code, name=name, kind=kind)
        for code, name, kind in DEPARTMENTS
    }
    users = {}
    for username, code, role in STAFF:
        user = User.objects.create_user(
            username=username, email=f"{username}@example.com", is_staff=True
        )
        membership_create(user=user, department=departments[code], role=role)
        users[username] = user
    policy_version_create(
        department=departments["FIN"],
        effective_from=now - timedelta(days=1),
        response_normal=FINANCE_RESPONSE_TARGET,
    )
    pushed = Schedule.objects.filter(func=SWEEP).update(
        next_run=now + timedelta(days=1)
    )
    tokens = {
        name: ApiToken.issue(user=users[username], name=name)[1]
        for name, username in (
            ("cs_agent", "cs_agent"),
            ("throttled", "fin_agent"),
        )
    }
    return {"tokens": tokens, "sweep_schedules": pushed}


def sweep_due() -> dict[str, Any]:
    """Make the SLA sweep's schedule (created by ``migrate``) due now; the
    worker's scheduler runs it at its next tick."""
    from django.utils import timezone
    from django_q.models import Schedule

    schedule = Schedule.objects.get(func=SWEEP)
    due = timezone.now() - timedelta(seconds=1)
    Schedule.objects.filter(pk=schedule.pk).update(next_run=due)
    return {
        "due": due,
        "name": schedule.name,
        "schedule_type": schedule.schedule_type,
        "minutes": schedule.minutes,
        "repeats": schedule.repeats,
    }


def state() -> dict[str, Any]:
    """What the worker and the projector did: sweep runs, the SLA email
    outbox, webhook deliveries and the scorecard projection's position
    (a group only the projector process follows)."""
    from django_q.models import OrmQ, Task

    from sla.models import SLANotification
    from tickets.application import get_tickets_application
    from tickets.models import WebhookDelivery
    from tickets.projection_runner import positions_of, projection_group

    app = get_tickets_application()
    return {
        "sweeps": [
            {
                "started": task.started,
                "stopped": task.stopped,
                "success": task.success,
                "result": task.result,
            }
            for task in Task.objects.filter(func=SWEEP).order_by("started")
        ],
        "notifications": list(
            SLANotification.objects.order_by("position").values(
                "position", "ticket_id", "kind", "sent_at", "recipients", "attempts"
            )
        ),
        "deliveries": list(
            WebhookDelivery.objects.order_by("position").values(
                "id",
                "position",
                "event_type",
                "ticket_id",
                "status",
                "attempts",
                "last_status_code",
            )
        ),
        "queued_orm_tasks": OrmQ.objects.count(),
        "scorecard_positions": positions_of(projection_group("scorecards"), app.name),
        "last_position": app.recorder.max_notification_id() or 0,
    }


COMMANDS = {"seed": seed, "sweep_due": sweep_due, "state": state}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.serializers.json import DjangoJSONEncoder

    django.setup()
    result = COMMANDS[argv[0]]()
    sys.stdout.write(json.dumps(result, cls=DjangoJSONEncoder) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
