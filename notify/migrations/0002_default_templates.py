"""The Vietnamese texts a new installation starts with, so administrators see and edit all seven.
Running it again leaves edited texts alone."""

from django.db import migrations

from notify.texts import DEFAULTS


def add_defaults(apps, schema_editor):
    MessageTemplate = apps.get_model("notify", "MessageTemplate")
    for event, text in DEFAULTS.items():
        MessageTemplate.objects.get_or_create(event=str(event), defaults={"text": text})


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_messages_templates_ratings")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
