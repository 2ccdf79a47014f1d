from django.conf import settings


def platform(request):
    return {"DEMO_MODE": settings.DEMO_MODE, "PLATFORM_NAME": "CivicGrid 智慧城管平台"}
