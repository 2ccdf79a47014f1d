"""Reads of the 12345 exchange."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, OuterRef, Q, Subquery

from civicgrid.hotline.models import Callback, VisitResult

S = VisitResult.Satisfaction


@dataclass(frozen=True)
class Satisfaction:
    satisfied: int
    basically: int
    dissatisfied: int

    @property
    def total(self) -> int:
        return self.satisfied + self.basically + self.dissatisfied

    @property
    def rate(self) -> Decimal | None:
        """(满意 + 基本满意) / all, as a percentage with one decimal; None when nobody was visited."""
        if not self.total:
            return None
        share = Decimal(100 * (self.satisfied + self.basically)) / self.total
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def hotline_satisfaction(start: datetime | None = None, end: datetime | None = None) -> Satisfaction:
    """回访 results of hotline cases visited in [start, end): each case counts once, by its latest visit."""
    period = Q()
    if start is not None:
        period &= Q(visited_at__gte=start)
    if end is not None:
        period &= Q(visited_at__lt=end)
    latest = VisitResult.objects.filter(period, case=OuterRef("case")).order_by("-visited_at", "-id").values("pk")[:1]
    counts = (
        VisitResult.objects.filter(period)
        .filter(pk=Subquery(latest))
        .aggregate(
            satisfied=Count("pk", filter=Q(satisfaction=S.SATISFIED)),
            basically=Count("pk", filter=Q(satisfaction=S.BASICALLY)),
            dissatisfied=Count("pk", filter=Q(satisfaction=S.DISSATISFIED)),
        )
    )
    return Satisfaction(**counts)


def callback_counts() -> dict[str, int]:
    """Callbacks per delivery status, for the delivery log's summary."""
    rows = Callback.objects.values("status").annotate(n=Count("pk")).order_by()
    counts = {status.value: 0 for status in Callback.Status}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
