from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "civicgrid.geo"
    label = "geo"
    verbose_name = "地理与网格"
