from django.urls import path

from civicgrid.workcalendar import views

urlpatterns = [
    path("deadline", views.deadline, name="calendar-deadline"),
    path("elapsed", views.elapsed, name="calendar-elapsed"),
]
