from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "civicgrid.core"
    label = "core"
    verbose_name = _("组织与人员")

    def ready(self):
        from civicgrid.core import auth

        auth.connect_signals()
