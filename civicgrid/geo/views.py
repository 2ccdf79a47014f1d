from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from civicgrid.geo import selectors
from civicgrid.geo.models import Grid


@require_GET
@login_required
def grid_map(request: HttpRequest) -> HttpResponse:
    """The grid map: server-rendered legend, layers fetched from grid_map_data."""
    config = {
        "dataUrl": reverse("geo:map-data"),
        "tileUrl": settings.TILE_URL,
        "tileAttribution": settings.TILE_ATTRIBUTION,
    }
    context = {
        "legend": selectors.map_legend(request.user),
        "grid_count": Grid.objects.visible_to(request.user).count(),
        "map_config": config,
    }
    return render(request, "geo/map.html", context)


@require_GET
@login_required
def grid_map_data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.map_layers(request.user), json_dumps_params={"ensure_ascii": False})
