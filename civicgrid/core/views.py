from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from civicgrid.catalog.models import Category, Stage, StageTimeLimit
from civicgrid.geo.models import Grid, Region, ResponsibilityGrid
from civicgrid.workcalendar.selectors import get_calendar


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise: for load balancers and monitoring."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse({"status": "error", "database": "unreachable", "detail": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_safe
@never_cache
def livez(request: HttpRequest) -> JsonResponse:
    """200 while the process serves requests, whatever the database does: a liveness probe (a
    restart would not bring a database back, so it must not fail with it), and the bare
    endpoint `make bench` measures as the ceiling of the server. It reads neither the session
    nor the user, so the middleware stack runs no query either."""
    return JsonResponse({"status": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    regions = Region.objects.visible_to(request.user)
    grids = Grid.objects.visible_to(request.user)
    categories = Category.objects.filter(is_active=True)
    this_year = timezone.localdate().year
    calendar = get_calendar()
    context = {
        "street_count": regions.filter(level=Region.Level.STREET).count(),
        "community_count": regions.filter(level=Region.Level.COMMUNITY).count(),
        "grid_count": grids.count(),
        "responsibility_grid_count": ResponsibilityGrid.objects.filter(grids__in=grids).distinct().count(),
        "category_count": categories.count(),
        # Reference values another city published, or placeholders: the county must confirm them.
        "unconfirmed_count": categories.filter(
            Q(filing_condition_confirmed=False)
            | Q(closing_condition_confirmed=False)
            | ~Exists(StageTimeLimit.objects.filter(category=OuterRef("pk"), stage=Stage.HANDLE, confirmed=True))
        ).count(),
        # Deadlines in a year without its holiday schedule count weekends only: say so.
        "incomplete_years": [y for y in (this_year, this_year + 1) if not calendar.is_year_complete(y)],
    }
    return render(request, "core/home.html", context)
