"""A week's recounts of the units writes marked move ``computed_at``; ``counted_whole_at`` keeps
when every unit was last counted (the week in progress is counted whole every 15 minutes)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_computation_run_queued_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="computedweek",
            name="counted_whole_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="counted whole at"),
        ),
    ]
