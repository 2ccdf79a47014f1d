"""Composite score (综合指标值) and grade (评价等级) of indicator rows.

score = Σ weightᵢ × valueᵢ ÷ Σ weightᵢ over the weighted indicators that have a value, where
valueᵢ is the rate (0–100) when higher is better and 100 − rate when lower is better. An
indicator without a value (its denominator was 0 in the period) is left out and the other
weights are rescaled; a row with no weighted value at all gets no score and no grade.
The grade is the band with the highest `min_score` not above the score.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from civicgrid.evaluation.models import GradeBand, IndicatorWeight

CENT = Decimal("0.01")


class Scorer:
    """Weights and grade bands read once (two queries), then applied to any number of rows."""

    def __init__(self) -> None:
        self.weights: dict[str, list[tuple[str, Decimal, bool]]] = {}
        for w in IndicatorWeight.objects.order_by("object_type", "id"):
            if w.weight > 0:
                lower = w.direction == IndicatorWeight.Direction.LOWER
                self.weights.setdefault(w.object_type, []).append((w.indicator, w.weight, lower))
        self.bands = [(band.min_score, band.grade) for band in GradeBand.objects.order_by("-min_score")]

    def score(self, object_type: str, row) -> Decimal | None:
        total = weight_sum = Decimal(0)
        for indicator, weight, lower in self.weights.get(object_type, []):
            value = getattr(row, indicator, None)
            if value is None:
                continue
            total += weight * (Decimal(100) - value if lower else value)
            weight_sum += weight
        if not weight_sum:
            return None
        return (total / weight_sum).quantize(CENT, rounding=ROUND_HALF_UP)

    def grade(self, score: Decimal | None) -> str | None:
        if score is None:
            return None
        return next((grade for minimum, grade in self.bands if score >= minimum), None)

    def apply(self, object_type: str, rows: Iterable) -> None:
        for row in rows:
            row.score = self.score(object_type, row)
            row.grade = self.grade(row.score)
