"""Records of the ticket's channels: files attached to its entries, mail
that arrived (email in), the notification outbox (email out), each
ticket's mail thread, and each person's notification settings.

None of these is a read model: attachments and inbound mail are what
people sent us (the events refer to them), the outbox is what we owe
people (never rebuilt: that would send history again), settings are
choices. They are kept, not recomputed."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Attachment(models.Model):
    """One stored file. Uploaded first (``PENDING``, visible to its
    uploader only), then attached by a command to one entry of the ticket:
    a reply, a customer message or the opening message (``CUSTOMER``: the
    customer and staff may read it) or an internal note (``INTERNAL``:
    staff only). The event records its id, name, size, content type and
    SHA-256; the bytes live in Django's storage under ``storage_name``."""

    class Audience(models.TextChoices):
        PENDING = "pending", _("Not attached yet")
        CUSTOMER = "customer", _("Customer-visible")
        INTERNAL = "internal", _("Internal")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: The ticket it is attached to (null while pending: files are
    #: uploaded before the command that attaches them, also before a
    #: ticket is opened).
    ticket_id = models.UUIDField(null=True, blank=True, db_index=True)
    storage_name = models.CharField(max_length=300, editable=False)
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120)
    sha256 = models.CharField(max_length=64)
    audience = models.CharField(
        max_length=10, choices=Audience.choices, default=Audience.PENDING
    )
    #: Who uploaded it: ``user:<pk>``, ``customer:<ticket id>`` or
    #: ``email:<inbound email id>``; a pending file is theirs alone.
    uploader = models.CharField(max_length=80)
    uploaded_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    #: The ticket version of the event that attached it (null: pending).
    attached_version = models.PositiveIntegerField(null=True, blank=True)
    attached_at = models.DateTimeField(null=True, blank=True)
    #: The command that reserved it (null: free to claim). A command
    #: reserves its files before it runs and releases them if refused; once
    #: its event is stored the reservation is kept, so no other command
    #: claims the file and the purge never deletes it.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    #: Until when a reservation holds if its command never finished (its
    #: process died): then the file is free again. Null with a ``claim``:
    #: an event refers to the file.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["ticket_id", "audience"], name="attach_ticket")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.size} bytes)"


class InboundEmail(models.Model):
    """One message the mail gateway (or ``ingest_email``) received, and
    what became of it. Every message is recorded, also the refused ones:
    nothing that arrives is lost. ``message_id`` is unique, so the same
    message delivered twice is recorded once and stored as one event."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("Received (being processed)")
        OPENED = "opened", _("Opened a ticket")
        REPLIED = "replied", _("Added to its ticket")
        REOPENED = "reopened", _("Reopened its ticket")
        FOLLOW_UP = "follow_up", _("Opened a follow-up of a closed ticket")
        AUTO_REPLY = "auto_reply", _("Ignored: an automatic reply")
        BOUNCE = "bounce", _("Ignored: a delivery failure report")
        LOOP = "loop", _("Ignored: a mail loop")
        TOO_LARGE = "too_large", _("Refused: too large")
        UNPARSEABLE = "unparseable", _("Refused: not a valid message")
        STAFF_REPLY = "staff_reply", _("Not posted: a reply from staff")
        REFUSED = "refused", _("Refused")
        FAILED = "failed", _("Failed (will be retried)")

    message_id = models.CharField(max_length=255, unique=True)
    received_at = models.DateTimeField(db_index=True)
    envelope_from = models.CharField(max_length=320, blank=True)
    envelope_to = models.TextField(blank=True)
    sender = models.CharField(max_length=320, blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.RECEIVED
    )
    detail = models.TextField(blank=True)
    ticket_id = models.UUIDField(null=True, blank=True, db_index=True)
    #: The raw message in Django's storage (kept also when refused; empty
    #: when it was too large to keep).
    raw_name = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound email")

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or '(no subject)'}"


class MailThread(models.Model):
    """A ticket's email conversation: its unguessable reply key (the
    per-ticket reply address ``<local>+<reply_key>@<domain>``) and the
    Message-ID every notification of the ticket refers to."""

    ticket_id = models.UUIDField(primary_key=True)
    reply_key = models.CharField(max_length=40, unique=True)
    root_message_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("mail thread")
        verbose_name_plural = _("mail threads")

    def __str__(self) -> str:
        return str(self.ticket_id)


class EmailNotification(models.Model):
    """Outbox of notification emails: one row per (event, kind, recipient),
    written by a tracked projection in the same transaction as its
    position (so exactly one), rendered when written, sent by workers
    outside any transaction with a short claim, retried with backoff."""

    class Audience(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        STAFF = "staff", _("Staff")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (gave up)")
        SKIPPED = "skipped", _("Not sent")

    position = models.BigIntegerField()
    kind = models.CharField(_("kind"), max_length=40)
    recipient = models.CharField(max_length=320)
    audience = models.CharField(_("audience"), max_length=10, choices=Audience.choices)
    user_id = models.IntegerField(null=True, blank=True)
    ticket_id = models.UUIDField(db_index=True)
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    reply_to = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-position"]
        verbose_name = _("email notification")
        verbose_name_plural = _("email notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["position", "kind", "recipient"],
                name="one_notification_per_event_kind_recipient",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="email_due")]

    def __str__(self) -> str:
        return f"{self.kind}@{self.position} -> {self.recipient}"


class NotificationSettings(models.Model):
    """Which notifications a staff member receives by email (a missing
    row means the defaults)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_settings",
    )
    department_handoff = models.BooleanField(
        _("a ticket is handed to my department"), default=False
    )
    assigned = models.BooleanField(_("a ticket is assigned to me"), default=True)
    customer_reply = models.BooleanField(
        _("the customer replies on a ticket my department owns"), default=True
    )
    sla_alert = models.BooleanField(
        _("a ticket of my department is at risk or breached"), default=True
    )
    #: The interface language (a code of settings.LANGUAGES); blank: the
    #: browser's (Accept-Language).
    language = models.CharField(_("language"), max_length=16, blank=True, default="")
    #: The timezone times are shown in; blank: the department's.
    timezone = models.CharField(_("timezone"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("my settings")
        verbose_name_plural = _("my settings")

    def __str__(self) -> str:
        return _("Settings of %(user)s") % {"user": self.user}

    @classmethod
    def switches(cls) -> tuple[str, ...]:
        """The names of the on/off settings (every boolean field), in
        declaration order: the API's and the admin form's fields."""
        return tuple(
            f.name for f in cls._meta.fields if isinstance(f, models.BooleanField)
        )
