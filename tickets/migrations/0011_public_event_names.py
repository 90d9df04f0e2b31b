"""Public event names come from the pinned topics (``Ticket.HandedOff``), not
from Python class names (``HandedOff``): rename the names already stored in
webhook subscriptions, webhook deliveries (their column and the ``type``
of the payload they send, so a retried delivery names its event one way)
and the timeline read model."""

from django.db import migrations, models
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

PREFIX = "Ticket."
BATCH = 1000


def _rename_payloads(deliveries, rename):
    batch = []
    for delivery in deliveries.only("pk", "payload").iterator(chunk_size=BATCH):
        payload = delivery.payload
        if isinstance(payload, dict) and isinstance(payload.get("type"), str):
            renamed = rename(payload["type"])
            if renamed != payload["type"]:
                delivery.payload = {**payload, "type": renamed}
                batch.append(delivery)
        if len(batch) >= BATCH:
            deliveries.bulk_update(batch, ["payload"])
            batch = []
    if batch:
        deliveries.bulk_update(batch, ["payload"])


def _full(name):
    return name if "." in name else PREFIX + name


def to_topic_names(apps, schema_editor):
    db = schema_editor.connection.alias
    subscriptions = apps.get_model("tickets", "WebhookSubscription")
    for subscription in subscriptions.objects.using(db).exclude(event_types=[]):
        names = sorted({_full(str(n)) for n in subscription.event_types or []})
        if names != subscription.event_types:
            subscription.event_types = names
            subscription.save(update_fields=["event_types"])
    deliveries = apps.get_model("tickets", "WebhookDelivery").objects.using(db)
    _rename_payloads(deliveries, _full)
    for model in ("WebhookDelivery", "TimelineEntry"):
        apps.get_model("tickets", model).objects.using(db).exclude(
            event_type__contains="."
        ).update(event_type=Concat(Value(PREFIX), F("event_type")))


def to_class_names(apps, schema_editor):
    db = schema_editor.connection.alias
    subscriptions = apps.get_model("tickets", "WebhookSubscription")
    for subscription in subscriptions.objects.using(db).exclude(event_types=[]):
        subscription.event_types = sorted(
            str(n).removeprefix(PREFIX) for n in subscription.event_types or []
        )
        subscription.save(update_fields=["event_types"])
    deliveries = apps.get_model("tickets", "WebhookDelivery").objects.using(db)
    _rename_payloads(deliveries, lambda name: name.removeprefix(PREFIX))
    for model in ("WebhookDelivery", "TimelineEntry"):
        apps.get_model("tickets", model).objects.using(db).filter(
            event_type__startswith=PREFIX
        ).update(event_type=Substr("event_type", len(PREFIX) + 1))


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0010_slaclock"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhooksubscription",
            name="event_types",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='Event type names, e.g. ["Ticket.HandedOff", '
                '"Ticket.SLABreached"]; empty = all.',
            ),
        ),
        migrations.RunPython(to_topic_names, to_class_names),
    ]
