from django.urls import path

from civicgrid.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("", views.evaluation_page, name="page"),
    path("print/", views.evaluation_print, name="print"),
    path("export.xlsx", views.evaluation_export, name="export"),
    path("cases/", views.evaluation_cases, name="cases"),
]
