"""Stalled and abandoned journeys: what the SLA sweep reads on the ticket
summary (the current stint's last public activity, a recorded stall, when
waiting on the customer began). Rows of tickets still in progress are
filled from their timelines; ``manage.py rebuild_projections`` gives the
same."""

from django.db import migrations, models
from django.db.models import Max

PUBLIC = ["Ticket.Responded", "Ticket.CustomerReplied"]


def backfill(apps, schema_editor):
    alias = schema_editor.connection.alias
    summary = apps.get_model("tickets", "TicketSummary")
    entry = apps.get_model("tickets", "TimelineEntry")
    for row in summary.objects.using(alias).filter(status__in=["open", "waiting"]):
        entries = entry.objects.using(alias).filter(
            ticket_id=row.ticket_id, occurred_at__gte=row.owner_since
        )
        replied = entries.filter(event_type__in=PUBLIC).aggregate(at=Max("occurred_at"))
        row.last_public_at = replied["at"] or row.owner_since
        if row.status == "waiting":
            waited = entry.objects.using(alias).filter(
                ticket_id=row.ticket_id, event_type="Ticket.WaitingOnCustomer"
            )
            row.waiting_since = waited.aggregate(at=Max("occurred_at"))["at"]
        row.save(update_fields=["last_public_at", "waiting_since"])


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0013_email_schedule'),
    ]

    operations = [
        migrations.AddField(
            model_name='ticketsummary',
            name='last_public_at',
            field=models.DateTimeField(blank=True, help_text="The current stint's last public activity: its start, a reply to or from the customer (what a stall counts from).", null=True),
        ),
        migrations.AddField(
            model_name='ticketsummary',
            name='stalled_at',
            field=models.DateTimeField(blank=True, help_text="When the current stint's quiet period passed its department's limit (a recorded stall); cleared by public activity.", null=True),
        ),
        migrations.AddField(
            model_name='ticketsummary',
            name='waiting_since',
            field=models.DateTimeField(blank=True, help_text='When the ticket started waiting on the customer (what abandonment counts from).', null=True),
        ),
        migrations.AddIndex(
            model_name='ticketsummary',
            index=models.Index(fields=['status', 'last_public_at'], name='ticket_status_quiet'),
        ),
        migrations.AddIndex(
            model_name='ticketsummary',
            index=models.Index(fields=['status', 'waiting_since'], name='ticket_status_waiting'),
        ),
        migrations.AlterField(
            model_name='handoff',
            name='outcome',
            field=models.CharField(blank=True, choices=[('responded', 'Responded'), ('handed_on', 'Handed on'), ('resolved', 'Resolved'), ('abandoned', 'Abandoned by the customer')], max_length=10),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
