"""Week marks become a log: a pair marked again gets another row instead of waiting on the unique
key while a recount deletes the earlier mark (a write never waits for a recount)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("communes", "0003_unit_desk_contact"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="dirtyweek",
            name="dirty_week_one_mark",
        ),
        migrations.AddIndex(
            model_name="dirtyweek",
            index=models.Index(fields=["week_start", "unit"], name="dirty_week_week_unit_idx"),
        ),
    ]
