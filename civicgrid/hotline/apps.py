from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "civicgrid.hotline"
    label = "hotline"
    verbose_name = _("12345 热线对接")
