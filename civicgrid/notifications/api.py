"""The in-app list, under /api/v1/ (docs/notifications.md).

GET  notifications/        the user's in-app messages, newest first (?unread=1: unread only)
POST notifications/read/   mark messages read: {"ids": [...]}, or all when no ids are given
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.notifications.services import notifications_for, notifications_mark_read


class NotificationListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.CharField()
        subject = serializers.CharField()
        body = serializers.CharField()
        case = serializers.CharField(source="context.case_number", default=None)
        created_at = serializers.DateTimeField()
        read_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        qs = notifications_for(request.user)
        if request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at=None)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class NotificationReadApi(APIView):
    class InputSerializer(serializers.Serializer):
        ids = serializers.ListField(child=serializers.IntegerField(), required=False)

    @extend_schema(request=InputSerializer, responses={200: None})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = notifications_mark_read(request.user, ids=data.validated_data.get("ids"))
        return Response({"read": count})
