from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from civicgrid.core import views as core_views

admin.site.site_header = _("CivicGrid 智慧城管平台")
admin.site.site_title = _("CivicGrid 管理")
admin.site.index_title = _("基础数据管理")

api_v1 = [
    path("calendar/", include("civicgrid.workcalendar.urls")),
    path("geo/", include("civicgrid.geo.api_urls")),
    path("evaluation/", include("civicgrid.evaluation.api_urls")),
    path("hotline/", include("civicgrid.hotline.urls")),
    path("notifications/", include("civicgrid.notifications.urls")),
    path("", include("civicgrid.cases.api_urls")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("livez", core_views.livez, name="livez"),
    path("accounts/", include("civicgrid.core.urls")),
    path("geo/", include("civicgrid.geo.urls")),
    path("cases/", include("civicgrid.cases.urls")),
    path("cockpit/", include("civicgrid.cockpit.urls")),
    path("evaluation/", include("civicgrid.evaluation.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("open311/v2/", include("civicgrid.open311.urls")),
    path("p/", include("civicgrid.portal.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
