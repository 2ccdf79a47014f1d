"""The portal's reporting pages under /p/ (the public pages are in public_urls)."""

from django.urls import path

from civicgrid.portal import report

urlpatterns = [
    path("", report.home, name="home"),
    path("report/", report.report, name="report"),
    path("report/follow/", report.follow, name="follow"),
    path("report/done/", report.done, name="report-done"),
    path("report/places/", report.places, name="places"),
    path("report/categories/", report.categories, name="categories"),
    path("report/nearby/", report.nearby, name="nearby"),
    path("otp/", report.otp, name="otp"),
]
