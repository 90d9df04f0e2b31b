"""Ticket models: read models of the event log (``read_models``, and the
SLA clocks in ``clocks``) and the integration records of the REST API
(``integrations``)."""

from tickets.models.channels import (
    Attachment,
    EmailNotification,
    InboundEmail,
    MailThread,
    NotificationSettings,
)
from tickets.models.clocks import SLAClock
from tickets.models.followups import FollowUp, FollowUpEntry
from tickets.models.integrations import (
    ApiToken,
    CustomerAccess,
    IdempotencyRecord,
    WebhookDelivery,
    WebhookSubscription,
)
from tickets.models.read_models import (
    Handoff,
    ProjectionTracking,
    QueueTicket,
    TicketSummary,
    TimelineEntry,
)

__all__ = [
    "ApiToken",
    "Attachment",
    "CustomerAccess",
    "EmailNotification",
    "FollowUp",
    "FollowUpEntry",
    "Handoff",
    "IdempotencyRecord",
    "InboundEmail",
    "MailThread",
    "NotificationSettings",
    "ProjectionTracking",
    "QueueTicket",
    "SLAClock",
    "TicketSummary",
    "TimelineEntry",
    "WebhookDelivery",
    "WebhookSubscription",
]
