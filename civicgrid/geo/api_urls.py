from django.urls import path
from rest_framework.routers import SimpleRouter

from civicgrid.geo import api

router = SimpleRouter(trailing_slash=True)
router.register("regions", api.RegionViewSet, basename="geo-region")
router.register("grids", api.GridViewSet, basename="geo-grid")

urlpatterns = [
    path("locate", api.GridLocateApi.as_view(), name="geo-locate"),
    *router.urls,
]
