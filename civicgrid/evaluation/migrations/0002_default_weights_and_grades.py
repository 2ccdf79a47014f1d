"""The documented defaults (docs/evaluation.md): settings row, indicator weights, grade bands A–E.

Weights follow the Unicom platform's per-object schemes (standards.md §5) where our rows have
the same rate, rescaled to sum to 100 where a count-tier score of theirs is left out.
"""

from decimal import Decimal

from django.db import migrations

WEIGHTS = [
    # (object type, indicator, weight, direction)
    ("region", "closure_rate", "40", "higher"),
    ("region", "on_time_rate", "40", "higher"),
    ("region", "public_share", "20", "lower"),
    ("unit", "closure_rate", "30", "higher"),
    ("unit", "on_time_rate", "30", "higher"),
    ("unit", "rework_rate", "30", "lower"),
    ("unit", "extension_rate", "10", "lower"),
    ("inspector", "valid_report_rate", "40", "higher"),
    ("inspector", "missed_report_rate", "20", "lower"),
    ("inspector", "on_time_verify_rate", "20", "higher"),
    ("inspector", "on_time_check_rate", "20", "higher"),
    ("operator", "on_time_filing_rate", "50", "higher"),
    ("operator", "accurate_filing_rate", "50", "higher"),
    ("shift_lead", "on_time_filing_rate", "25", "higher"),
    ("shift_lead", "accurate_filing_rate", "40", "higher"),
    ("shift_lead", "on_time_closing_rate", "35", "higher"),
    ("dispatcher", "on_time_dispatch_rate", "50", "higher"),
    ("dispatcher", "accurate_dispatch_rate", "50", "higher"),
]
GRADES = [("A", "90"), ("B", "75"), ("C", "60"), ("D", "40"), ("E", "0")]


def seed(apps, schema_editor):
    EvaluationSettings = apps.get_model("evaluation", "EvaluationSettings")
    IndicatorWeight = apps.get_model("evaluation", "IndicatorWeight")
    GradeBand = apps.get_model("evaluation", "GradeBand")
    EvaluationSettings.objects.get_or_create(pk=1)
    for object_type, indicator, weight, direction in WEIGHTS:
        IndicatorWeight.objects.get_or_create(
            object_type=object_type,
            indicator=indicator,
            defaults={"weight": Decimal(weight), "direction": direction},
        )
    for grade, minimum in GRADES:
        GradeBand.objects.get_or_create(grade=grade, defaults={"min_score": Decimal(minimum)})


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_evaluation_settings_weights_grades")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
