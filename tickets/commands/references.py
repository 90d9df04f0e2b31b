"""How command inputs that name something are resolved: a department code
to a ``DepartmentRef``, a user id to an ``AgentRef``, a scenario to its
catalogue code (``InvalidInput`` with a stable code when there is none).
Re-exported by ``tickets.services``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from departments.models import Department
from departments.selectors import active_scenario_code, memberships_for_user
from tickets.domain import SCENARIO_RE, AgentRef, DepartmentRef, InvalidInput


def department_ref(code: str, *, field: str = "to_department") -> DepartmentRef:
    department = Department.objects.filter(code=str(code or "").upper()).first()
    if department is None:
        raise InvalidInput(
            f"There is no department {code!r}.", field=field, code="unknown_department"
        )
    return DepartmentRef(
        code=department.code,
        name=department.name,
        active=department.is_active,
        front_line=department.is_front_line,
        timezone=department.timezone,
    )


def agent_ref(agent_id: Any) -> AgentRef:
    user_model = get_user_model()
    try:
        user = user_model.objects.get(pk=int(agent_id), is_active=True)
    except (TypeError, ValueError, user_model.DoesNotExist):
        raise InvalidInput(
            f"There is no active user {agent_id!r}.",
            field="agent",
            code="unknown_agent",
        ) from None
    return AgentRef(
        id=str(user.pk),
        name=user.get_full_name() or user.get_username(),
        departments=frozenset(m.department.code for m in memberships_for_user(user)),
    )


def scenario_code(code: Any) -> str:
    """The catalogue's code for a scenario given in any case: an active
    catalogue entry, or "" (no scenario: left for triage). Anything else is
    refused with ``unknown_scenario`` (an unknown or inactive code)."""
    text = str(code or "").strip()
    if not text:
        return ""
    # Not even shaped like a code (NUL, spaces...): it cannot be one.
    found = active_scenario_code(text) if SCENARIO_RE.match(text) else None
    if found is None:
        raise InvalidInput(
            f"There is no active scenario {text!r} in the catalogue.",
            field="scenario",
            code="unknown_scenario",
        )
    return found


def department_timezones() -> dict[str, str]:
    """Each department's timezone as it is now (the aggregate knows the
    departments, not their settings)."""
    return dict(Department.objects.values_list("code", "timezone"))
