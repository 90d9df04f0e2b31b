"""Inbound email in the admin: every message the gateway or
``ingest_email`` received and what became of it, read-only.

The rows name a ticket, so they are shown through the visibility rule:
staff see the mail of the tickets they may see; mail that became no
ticket (bounces, automatic replies, refusals) only those who see every
ticket (superusers and front-line leads).
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tickets.admin.visibility import ReadOnlyTicketDataAdmin
from tickets.models import InboundEmail


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyTicketDataAdmin):
    list_display = [
        "received_at",
        "outcome",
        "sender",
        "subject",
        "ticket_link",
        "size",
    ]
    list_filter = ["outcome"]
    search_fields = ["sender", "subject", "message_id", "envelope_from"]
    date_hierarchy = "received_at"
    fields = readonly_fields = (
        "received_at",
        "outcome",
        "detail",
        "ticket_link",
        "sender",
        "sender_name",
        "subject",
        "message_id",
        "envelope_from",
        "envelope_to",
        "size",
        "raw_name",
    )

    @admin.display(description=_("ticket"))
    def ticket_link(self, obj: InboundEmail) -> str:
        if obj.ticket_id is None:
            return "-"
        url = reverse("admin:tickets_queueticket_change", args=[obj.ticket_id])
        return format_html('<a href="{}">{}</a>', url, obj.ticket_id)
