from django.urls import path

from civicgrid.geo import views

app_name = "geo"
urlpatterns = [
    path("map/", views.grid_map, name="map"),
    path("map/data.json", views.grid_map_data, name="map-data"),
]
