"""Create the event-store tables as part of ``migrate``.

The tables belong to eventsourcing, not to Django models, so they are
created by constructing the application once with CREATE_TABLE on, against
the database being migrated. Web and worker processes then run with
CREATE_TABLE off and never race on DDL at start-up.
"""

from django.db import migrations


def create_event_store(apps, schema_editor):
    from tickets.application import create_event_store as create

    create(alias=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [
        migrations.RunPython(create_event_store, migrations.RunPython.noop, elidable=False),
    ]
