from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _

MIDDLEWARE = "civicgrid.audit.middleware.AuditContextMiddleware"


def check_middleware(app_configs, **kwargs):
    # Without the middleware, changes made in the admin are logged with no actor and no IP.
    if MIDDLEWARE in settings.MIDDLEWARE:
        return []
    return [
        checks.Warning(
            f"{MIDDLEWARE} is not in MIDDLEWARE: audit entries of changes will have no actor or IP.",
            hint="Add it right after django.contrib.auth.middleware.AuthenticationMiddleware.",
            id="audit.W001",
        )
    ]


class AuditConfig(AppConfig):
    name = "civicgrid.audit"
    label = "audit"
    verbose_name = _("审计日志")

    def ready(self):
        from civicgrid.audit import receivers

        receivers.connect()
        checks.register(check_middleware)
