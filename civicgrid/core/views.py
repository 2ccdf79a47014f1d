from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from civicgrid.geo.models import Grid, Region


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


@login_required
def home(request: HttpRequest) -> HttpResponse:
    regions = Region.objects.visible_to(request.user)
    context = {
        "street_count": regions.filter(level=Region.Level.STREET).count(),
        "community_count": regions.filter(level=Region.Level.COMMUNITY).count(),
        "grid_count": Grid.objects.visible_to(request.user).count(),
    }
    return render(request, "core/home.html", context)
