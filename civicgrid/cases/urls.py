from django.urls import path

from civicgrid.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("new/", views.case_new, name="new"),
    path("categories/", views.category_search, name="category-search"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/act/", views.case_action, name="act"),
    path("m/", views.mobile, name="mobile"),
    path("m/tasks/", views.mobile_tasks, name="mobile-tasks"),
    path("m/<int:pk>/", views.mobile_case, name="mobile-case"),
]
