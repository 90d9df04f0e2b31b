"""Records the REST API keeps for integrators: API tokens, idempotency
records and webhooks. These are operational state, not read models: they
are not rebuilt from the event log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.event_format import canonical_event_name
from tickets.outbound import DestinationRefused, check_url

TOKEN_PREFIX = "bat_"  # noqa: S105 (a prefix, not a secret)


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """An integration's credential. Only a SHA-256 hash of the key is
    stored; the key is shown once when issued. A token acts as its user."""

    name = models.CharField(max_length=100, help_text="Which integration uses it.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}...)"

    @classmethod
    def issue(cls, *, user: Any, name: str) -> tuple[ApiToken, str]:
        """Create a token; returns it and the plain key (shown once)."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, key_prefix=key[:12], key_hash=hash_token(key)
        )
        return token, key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The stored outcome of a POST made with an ``Idempotency-Key``.

    Keys are scoped to the caller. A record is created before the command
    runs (``status`` 0 while in progress), so a concurrent retry sees the
    key in use instead of running the command twice.
    """

    TTL = timedelta(hours=24)

    scope = models.CharField(max_length=80, help_text="token:<id> or user:<id>")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    response_body = models.BinaryField(blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], name="unique_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class WebhookSubscription(models.Model):
    """An integration's URL that receives ticket events of chosen types."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(
        max_length=500, validators=[URLValidator(schemes=["http", "https"])]
    )
    event_types = models.JSONField(
        default=list,
        blank=True,
        help_text='Event type names, e.g. ["Ticket.HandedOff", '
        '"Ticket.SLABreached"]; empty = all.',
    )
    secret = models.CharField(
        max_length=100, help_text="Shared secret for the X-Baton-Signature HMAC."
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} -> {self.url}"

    def clean(self) -> None:
        """The URL's host must resolve to addresses Baton may send to (see
        :mod:`tickets.outbound`); checked by the admin form. A URL that
        fails the field's own validation is left to that message."""
        super().clean()
        if not isinstance(self.event_types, list):
            raise ValidationError({"event_types": "A list of event type names."})
        unknown = [t for t in self.event_types if canonical_event_name(str(t)) is None]
        if unknown:
            raise ValidationError(
                {"event_types": f"Unknown event types: {', '.join(map(str, unknown))}."}
            )
        self.event_types = sorted(
            {canonical_event_name(str(t)) or "" for t in self.event_types}
        )
        try:
            URLValidator(schemes=["http", "https"])(self.url)
        except ValidationError:
            return
        try:
            check_url(self.url)
        except DestinationRefused as refused:
            raise ValidationError(
                {"url": ValidationError(refused.message, code=refused.code)}
            ) from None

    def wants(self, event_type: str) -> bool:
        if not self.event_types:
            return True
        # Rows written before names came from topics may hold short forms.
        return event_type in {canonical_event_name(str(n)) for n in self.event_types}

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(32)


class WebhookDelivery(models.Model):
    """One event to deliver to one subscription, with its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    position = models.BigIntegerField()
    event_type = models.CharField(_("event type"), max_length=40)
    ticket_id = models.UUIDField()
    payload = models.JSONField()
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-position"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "position"], name="unique_delivery_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due")
        ]

    def __str__(self) -> str:
        return f"{self.event_type}@{self.position} -> {self.subscription_id}"


class CustomerAccessQuerySet(models.QuerySet["CustomerAccess"]):
    def usable(self, now: Any) -> CustomerAccessQuerySet:
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class CustomerAccess(models.Model):
    """A customer's link to one ticket's page (``/t/<token>/``).

    The token has 192 bits of randomness and only its SHA-256 hash is
    stored, so a link is shown once, when issued. Issuing a new link
    revokes the previous ones; links can also be revoked or expire.
    """

    ticket = models.ForeignKey(
        "tickets.TicketSummary",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="customer_links",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    #: The link's token is derived from this salt and SECRET_KEY
    #: (``tickets.customer.token_from_salt``), so that the notification
    #: emails can carry the current link; empty for links issued before.
    salt = models.CharField(max_length=32, blank=True, editable=False)

    objects = CustomerAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "customer link"

    def __str__(self) -> str:
        return f"Link to {self.ticket_id} from {self.created_at:%Y-%m-%d %H:%M}"
