"""The admin-editable settings: defaults from the migration, validation, the admin pages."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.test import TestCase

from civicgrid.core.models import User
from civicgrid.evaluation.models import EvaluationSettings, GradeBand, IndicatorWeight
from civicgrid.evaluation.scoring import Scorer


class DefaultsTests(TestCase):
    def test_it_ships_the_documented_defaults(self):
        config = EvaluationSettings.current()
        self.assertEqual((config.pk, config.exclude_deferred, config.basically_satisfied_counts), (1, True, True))
        self.assertEqual(config.satisfaction_target, Decimal("95"))
        bands = list(GradeBand.objects.values_list("grade", "min_score"))
        self.assertEqual(bands, [("A", 90), ("B", 75), ("C", 60), ("D", 40), ("E", 0)])
        weights = {(w.object_type, w.indicator): (w.weight, w.direction) for w in IndicatorWeight.objects.all()}
        self.assertEqual(weights["unit", "rework_rate"], (Decimal("30"), "lower"))
        for object_type in ("region", "unit", "inspector", "operator", "shift_lead", "dispatcher"):
            total = sum(w for (kind, _i), (w, _d) in weights.items() if kind == object_type)
            self.assertEqual(total, 100, object_type)

    def test_it_grades_at_the_band_edges(self):
        scorer = Scorer()
        cases = [(Decimal("90"), "A"), (Decimal("89.99"), "B"), (Decimal("75"), "B"), (Decimal("60"), "C")]
        cases += [(Decimal("40"), "D"), (Decimal("39.99"), "E"), (Decimal("0"), "E"), (None, None)]
        for score, grade in cases:
            with self.subTest(score=str(score)):
                self.assertEqual(scorer.grade(score), grade)


class ValidationTests(TestCase):
    def test_it_refuses_an_indicator_the_object_does_not_have(self):
        weight = IndicatorWeight(object_type="dispatcher", indicator="rework_rate", weight=Decimal("10"))
        with self.assertRaises(ValidationError) as refused:
            weight.full_clean()
        self.assertIn("on_time_dispatch_rate", str(refused.exception))

    def test_it_wants_the_resolution_targets_to_add_up(self):
        config = EvaluationSettings.current()
        config.service_target = Decimal("80")
        with self.assertRaises(ValidationError):
            config.full_clean()


class AdminTests(TestCase):
    def test_it_lists_and_edits_the_settings_in_the_admin(self):
        self.client.force_login(User.objects.create_superuser("root", password="x"))
        for path in ("indicatorweight/", "gradeband/", "evaluationsettings/", "evaluationsettings/1/change/"):
            with self.subTest(path=path):
                response = self.client.get(f"/admin/evaluation/{path}")
                self.assertEqual(response.status_code, 200)
        self.assertContains(self.client.get("/admin/evaluation/indicatorweight/"), "返工率")
