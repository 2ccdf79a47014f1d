from django.db import migrations, models


def forget_the_facts(apps, schema_editor):
    """The facts built before this migration lack the handled and rating rows: the next
    evaluation (or `manage.py rebuild_evaluation`, the faster way on a large database) builds
    them again."""
    apps.get_model("evaluation", "EvaluationFactState").objects.update(last_event_id=0, built_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0004_fact_county_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="evaluationfact",
            name="run_started",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="evaluationfact",
            name="satisfaction",
            field=models.CharField(blank=True, max_length=12),
        ),
        migrations.AddField(
            model_name="evaluationfact",
            name="source",
            field=models.CharField(blank=True, max_length=10),
        ),
        migrations.RunPython(forget_the_facts, migrations.RunPython.noop),
    ]
