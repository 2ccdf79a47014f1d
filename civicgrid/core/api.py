"""API plumbing shared by every app: one error shape, in Chinese.

Every API error is {"error": {"field": <name or null>, "reason": <Chinese text>}, "errors": [...]}:
the first problem in `error`, all of them in `errors`.
"""

from django.http import JsonResponse
from rest_framework.views import exception_handler as drf_exception_handler


def error_response(field: str | None, reason: str, status: int = 400) -> JsonResponse:
    problem = {"field": field, "reason": reason}
    return JsonResponse(
        {"error": problem, "errors": [problem]}, status=status, json_dumps_params={"ensure_ascii": False}
    )


def _flatten(detail, prefix: str | None = None) -> list[dict]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = None if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else str(key))
            out.extend(_flatten(value, name))
        return out
    if isinstance(detail, list):
        out = []
        for item in detail:
            out.extend(_flatten(item, prefix))
        return out
    return [{"field": prefix, "reason": str(detail)}]


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    problems = _flatten(response.data) or [{"field": None, "reason": "请求无效"}]
    if isinstance(response.data, dict) and set(response.data) == {"detail"}:
        problems = [{"field": None, "reason": str(response.data["detail"])}]
    response.data = {"error": problems[0], "errors": problems}
    return response
