from django.urls import path

from civicgrid.evaluation import api

urlpatterns = [
    path("regions/", api.RegionEvaluationApi.as_view(), name="api-evaluation-regions"),
    path("units/", api.UnitEvaluationApi.as_view(), name="api-evaluation-units"),
    path("staff/", api.StaffEvaluationApi.as_view(), name="api-evaluation-staff"),
    path("satisfaction/", api.SatisfactionEvaluationApi.as_view(), name="api-evaluation-satisfaction"),
    path("resolution/", api.ResolutionEvaluationApi.as_view(), name="api-evaluation-resolution"),
    path("summary/", api.SummaryEvaluationApi.as_view(), name="api-evaluation-summary"),
]
