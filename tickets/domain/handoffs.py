"""Handing a ticket to another department, and assigning an agent of the
owning department."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from tickets.domain.actors import Actor, AgentRef, DepartmentRef
from tickets.domain.clocks import SLAPort
from tickets.domain.errors import (
    AssigneeNotMember,
    DepartmentInactive,
    HandoffToCurrentOwner,
    NoChange,
)
from tickets.domain.state import TicketEvent, TicketState, upcast_timezone
from tickets.domain.validation import _reason, _text
from tickets.domain.vocabulary import MAX_SHORT, Status, StintOutcome, event_topic
from tickets.domain.waiting import Waiting


def upcast_suggestion(state: dict[str, Any]) -> None:
    """Upcaster for handoffs stored before routing suggestions: none."""
    state.setdefault("suggested_department", "")


class Handoffs(Waiting):
    """Ticket commands that change who works the ticket."""

    class HandedOff(TicketEvent):
        """The receiving department now owns the ticket (and its clock)."""

        TOPIC = event_topic("HandedOff")
        handoff_id: UUID
        from_stint_id: UUID
        from_department: str
        to_department: str
        to_department_name: str
        to_department_timezone: str
        reason: str
        #: The department routing suggested when the handoff was made (empty:
        #: none), so acting against the suggestion can be measured.
        suggested_department: str

        class_version = 3
        upcast_v1_v2 = upcast_timezone("to_department_timezone")
        upcast_v2_v3 = staticmethod(upcast_suggestion)

        def apply(self, ticket: TicketState) -> None:
            ticket._end_stint(self.timestamp, StintOutcome.HANDED_ON)
            ticket.owner = self.to_department
            ticket.owner_name = self.to_department_name
            ticket.assignee_id = None
            ticket._start_stint(
                self.handoff_id,
                self.to_department,
                self.to_department_name,
                self.timestamp,
                from_department=self.from_department,
                timezone=self.to_department_timezone,
            )

    def hand_off(
        self,
        *,
        to: DepartmentRef,
        reason: str,
        actor: Actor,
        at: datetime,
        sla: SLAPort | None = None,
        suggested_department: str = "",
    ) -> UUID:
        """Hand the ticket to another department, which now owns it.

        Only the owner may hand off; the target must be active and not the
        owner; a reason is required. Ends any waiting on the customer.
        ``suggested_department``: the department routing suggested at that
        moment (recorded, never enforced). Returns the new handoff (stint)
        id."""
        self._require_open_for_work()
        self._require_owner(actor, "hand off")
        if to.code == self.owner:
            raise HandoffToCurrentOwner(
                f"{to.name} already owns this ticket.", field="to_department"
            )
        if not to.active:
            raise DepartmentInactive(
                f"{to.name} is not active and cannot receive tickets.",
                field="to_department",
            )
        clean_reason = _reason(reason)
        if self.status == Status.WAITING:
            self._end_waiting(sla, actor, at, cause="handed_off")
        handoff_id = uuid4()
        from_stint_id = self.current_stint_id
        assert from_stint_id is not None
        self._trigger(
            self.HandedOff,
            actor,
            at,
            handoff_id=handoff_id,
            from_stint_id=self.current_stint_id,
            from_department=self.owner,
            to_department=to.code,
            to_department_name=to.name,
            to_department_timezone=to.timezone,
            reason=clean_reason,
            suggested_department=_text(
                suggested_department, "suggested_department", 16, required=False
            ).upper(),
        )
        self._stop_stint_clocks(sla, from_stint_id, StintOutcome.HANDED_ON, actor, at)
        self._start_stint_clocks(sla, handoff_id, actor, at)
        return handoff_id

    class AgentAssigned(TicketEvent):
        """A member of the owning department now works the ticket."""

        TOPIC = event_topic("AgentAssigned")
        stint_id: UUID
        agent_id: str
        agent_name: str
        department: str

        def apply(self, ticket: TicketState) -> None:
            ticket.assignee_id = self.agent_id
            ticket.stints[self.stint_id].agent_id = self.agent_id

    def assign(self, *, agent: AgentRef, actor: Actor, at: datetime) -> None:
        """Assign a member of the owning department; owner only."""
        self._require_open_for_work()
        self._require_owner(actor, "assign")
        if self.owner not in agent.departments:
            raise AssigneeNotMember(
                f"{agent.name} is not a member of {self.owner_name}.",
                field="agent",
            )
        if agent.id == self.assignee_id:
            raise NoChange(f"{agent.name} is already assigned.", field="agent")
        assert self.current_stint_id is not None
        self._trigger(
            self.AgentAssigned,
            actor,
            at,
            stint_id=self.current_stint_id,
            agent_id=agent.id,
            agent_name=_text(agent.name, "agent_name", MAX_SHORT),
            department=self.owner,
        )
