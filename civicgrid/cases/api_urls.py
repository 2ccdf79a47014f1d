from django.urls import path

from civicgrid.cases import api

urlpatterns = [
    path("cases/", api.CaseListApi.as_view(), name="api-case-list"),
    path("cases/queues/", api.CaseQueuesApi.as_view(), name="api-case-queues"),
    path("cases/<int:case_id>/", api.CaseDetailApi.as_view(), name="api-case-detail"),
    path("cases/<int:case_id>/actions/<str:action>/", api.CaseActApi.as_view(), name="api-case-act"),
    path("cases/<int:case_id>/events/", api.CaseEventsApi.as_view(), name="api-case-events"),
    path("cases/<int:case_id>/attachments/", api.CaseAttachmentsApi.as_view(), name="api-case-attachments"),
    path("attachments/<int:pk>/file", api.AttachmentFileApi.as_view(), name="api-attachment-file"),
    path(
        "attachments/<int:pk>/thumbnail",
        api.AttachmentFileApi.as_view(thumbnail=True),
        name="api-attachment-thumbnail",
    ),
]
