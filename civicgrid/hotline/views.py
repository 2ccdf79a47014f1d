"""The hotline's API under /api/v1/hotline/ (see docs/hotline.md).

The hotline authenticates with a shared secret in the X-Hotline-Token header
(CIVICGRID_HOTLINE_TOKEN); errors answer the project's JSON error shape.
"""

from __future__ import annotations

import hmac
import json

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from civicgrid.cases.services import CaseError
from civicgrid.core.api import error_response
from civicgrid.hotline import conf
from civicgrid.hotline.services import visit_receive, work_order_receive


def _hotline_only(view):
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.method != "POST":
            response = error_response(None, _("只支持 POST"), status=405)
            response["Allow"] = "POST"
            return response
        expected = conf.get("CIVICGRID_HOTLINE_TOKEN")
        given = request.headers.get("X-Hotline-Token", "")
        if not given:
            return error_response("X-Hotline-Token", _("缺少热线接口令牌"), status=401)
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return error_response("X-Hotline-Token", _("热线接口令牌无效"), status=403)
        try:
            payload = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return error_response(None, _("请求体不是有效的 JSON"))
        try:
            return view(request, payload, *args, **kwargs)
        except CaseError as exc:
            return error_response(exc.field, exc.reason, status=exc.status)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


def _json(body: dict, status: int) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@_hotline_only
def orders(request: HttpRequest, payload) -> JsonResponse:
    """Receive a work order: 201 with the new case, or 200 with the case made for it before."""
    received = work_order_receive(payload=payload)
    order, case = received.work_order, received.work_order.case
    return _json(
        {
            "order_id": order.order_id,
            "case_id": case.pk,
            "case_number": case.number,
            "status": case.status,
            "created": received.created,
        },
        201 if received.created else 200,
    )


@_hotline_only
def visits(request: HttpRequest, payload, order_id: str) -> JsonResponse:
    """Receive a 回访 result for an order: 201, or 200 for a visit_id received before."""
    try:
        visit, created = visit_receive(order_id=order_id, payload=payload)
    except LookupError:
        return error_response("order_id", _("热线工单不存在：%(order_id)s") % {"order_id": order_id}, status=404)
    return _json(
        {
            "order_id": order_id,
            "case_number": visit.case.number,
            "satisfaction": visit.satisfaction,
            "visited_at": visit.visited_at.isoformat(),
            "created": created,
        },
        201 if created else 200,
    )
