"""Projections of ticket events into the read models the admin, the API
and the customer pages query. Each handler derives rows from the event
alone (no clock, no lookups elsewhere), so replaying the log always gives
the same rows.

One module per read model: ``summary`` (TicketSummary), ``handoffs``
(Handoff), ``timeline`` (TimelineEntry, in plain language), ``clocks``
(SLAClock) and ``followups`` (FollowUp, FollowUpEntry). Settings name the
classes through this package.
"""

from tickets.projections.clocks import SLAClockProjection
from tickets.projections.followups import FollowUpProjection
from tickets.projections.handoffs import HandoffProjection
from tickets.projections.summary import TicketSummaryProjection
from tickets.projections.timeline import TimelineProjection

__all__ = [
    "FollowUpProjection",
    "HandoffProjection",
    "SLAClockProjection",
    "TicketSummaryProjection",
    "TimelineProjection",
]
