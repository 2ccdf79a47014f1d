from django.urls import path

from civicgrid.hotline import views

app_name = "hotline"

urlpatterns = [
    path("orders/", views.orders, name="orders"),
    path("orders/<str:order_id>/visits/", views.visits, name="visits"),
]
