"""The dissatisfied alert: a rating of 1 or 2 alerts the rated department
at once (its shared mailbox and its leads), through the notification
outbox (``tickets.mail.notifications``: one row per event and recipient,
exactly once, sent by the workers). Internal text only: it goes to staff,
never to the customer, and carries no customer link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse

from departments.models import Department, Membership
from tickets.mail import render

if TYPE_CHECKING:
    from tickets.mail.notifications import EmailNotificationProjection, Recipient
    from tickets.projection_runner import ProjectionSession

KIND = "dissatisfied"


def department_recipients(code: str) -> list[Recipient]:
    """The department's shared mailbox and its active leads with an email
    address (not subject to personal notification settings: a low rating
    is everyone-in-charge news)."""
    from tickets.mail.notifications import Recipient

    department = Department.objects.filter(code=code).values("email").first()
    recipients = (
        [Recipient(department["email"])] if department and department["email"] else []
    )
    leads = (
        Membership.objects.filter(
            department__code=code, role=Membership.Role.LEAD, user__is_active=True
        )
        .exclude(user__email="")
        .order_by("user_id")
        .values_list("user_id", "user__email")
    )
    recipients += [Recipient(email, user_id) for user_id, email in leads]
    return recipients


def follow_up_url(follow_up_id: Any) -> str:
    return render.public_url(reverse("admin:tickets_followup", args=[follow_up_id]))


def dissatisfied_alert(
    projection: EmailNotificationProjection,
    e: Any,
    position: int,
    session: ProjectionSession,
) -> None:
    """Write the alert rows of one ``Ticket.FollowUpOpened``."""
    from tickets.mail.notifications import STAFF

    ticket = projection._ticket(e)
    if ticket is None:
        return
    timezone_name = (
        Department.objects.filter(code=e.department)
        .values_list("timezone", flat=True)
        .first()
        or "UTC"
    )
    projection._add(
        session,
        e,
        position,
        kind=KIND,
        audience=STAFF,
        recipients=department_recipients(e.department),
        context={
            **projection._staff_context(e, ticket),
            "department": e.department_name,
            "score": e.score,
            "comment": e.comment,
            "experience": e.handoff_id is None,
            "due": render.local_time(e.due_at, timezone_name),
            "follow_up_url": follow_up_url(e.follow_up_id),
        },
    )
