from django.conf import settings
from django.utils.translation import gettext as _


def platform(request):
    return {"DEMO_MODE": settings.DEMO_MODE, "PLATFORM_NAME": _("CivicGrid 智慧城管平台")}
