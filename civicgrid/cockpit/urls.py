from django.urls import path

from civicgrid.cockpit import views

app_name = "cockpit"

urlpatterns = [
    path("", views.cockpit, name="page"),
    path("data", views.cockpit_data, name="data"),
]
