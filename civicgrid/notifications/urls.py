from django.urls import path

from civicgrid.notifications import api

urlpatterns = [
    path("", api.NotificationListApi.as_view(), name="api-notification-list"),
    path("read/", api.NotificationReadApi.as_view(), name="api-notification-read"),
]
