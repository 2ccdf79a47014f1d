from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "civicgrid.catalog"
    label = "catalog"
    verbose_name = "部件事件分类"
