"""The citizen portal under /p/: reporting (report_urls) and the public pages (public_urls)."""

from django.urls import include, path

app_name = "portal"

urlpatterns = [
    path("", include("civicgrid.portal.report_urls")),
    path("", include("civicgrid.portal.public_urls")),
]
