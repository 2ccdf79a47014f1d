from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def grid_map(request: HttpRequest) -> HttpResponse:
    # Placeholder until the map page lands.
    return HttpResponse("网格地图")
