"""django-q2 tasks of the tickets app. They take ids, are idempotent, and
call services."""

from __future__ import annotations

from tickets import webhooks
from tickets.models import WebhookDelivery


def deliver_webhooks_for_event(position: int) -> int:
    """Send the deliveries of one event (enqueued after the projection
    commits). Returns how many were attempted."""
    ids = list(
        WebhookDelivery.objects.filter(
            position=position, status=WebhookDelivery.Status.PENDING
        ).values_list("pk", flat=True)
    )
    for delivery_id in ids:
        webhooks.deliver(delivery_id)
    return len(ids)


def deliver_due_webhooks() -> int:
    """Scheduled every minute: retries and anything not yet sent."""
    return webhooks.deliver_due()


def send_email_notifications_for_event(position: int) -> int:
    """Send the notification emails of one event (enqueued after the
    projection commits). Returns how many were attempted."""
    from tickets.mail import notifications

    return notifications.send_for_event(position)


def send_due_email_notifications() -> int:
    """Scheduled every minute: retries, and emails whose enqueue was lost."""
    from tickets.mail import notifications

    return notifications.send_due()


def housekeeping() -> dict[str, int]:
    """Scheduled hourly: forget expired idempotency records, delete
    uploads nobody attached within a day (their files too), and delete raw
    inbound messages older than BATON_MAIL_RAW_DAYS (their records stay)."""
    from tickets import attachments, clock
    from tickets.mail import inbound
    from tickets.models import IdempotencyRecord

    purged, _ = IdempotencyRecord.objects.filter(expires_at__lte=clock.now()).delete()
    return {
        "idempotency_records_purged": purged,
        "pending_uploads_purged": attachments.purge_pending(),
        "inbound_raw_purged": inbound.purge_raw(),
    }


def checkpoint_event_log() -> dict[str, object]:
    """Scheduled every EVENT_CHECKPOINT_MINUTES: verify the events since the
    last checkpoint, then store and publish a new one. A broken link is
    logged as an error and no checkpoint is taken."""
    from tickets.application import get_tickets_application
    from tickets.integrity import configured_checkpoint_file, take_checkpoint

    report = take_checkpoint(
        get_tickets_application(), path=configured_checkpoint_file()
    )
    return {
        "checked": report.checked,
        "position": report.last_position,
        "problem": str(report.problem) if report.problem else None,
    }
