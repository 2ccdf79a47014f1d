"""The delivery log and the hotline's orders and 回访, read-only for administrators."""

import json
from datetime import timedelta

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from civicgrid.hotline import selectors, services
from civicgrid.hotline.models import Callback, VisitResult, WorkOrder


class _ReadOnly(admin.ModelAdmin):
    """Rows written by the exchange only: viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _masked(phone: str) -> str:
    if len(phone) >= 7:
        return f"{phone[:3]}****{phone[-4:]}"
    return "****" if phone else ""


@admin.register(WorkOrder)
class WorkOrderAdmin(_ReadOnly):
    # The caller's number is masked here as on the case page, where showing it in full is
    # recorded in the audit log (docs/audit.md); the admin does not show it in full.
    list_display = ("order_id", "case", "caller_name", "caller_phone_masked", "called_at", "received_at")
    fields = ("order_id", "case", "caller_name", "caller_phone_masked", "called_at", "received_at", "payload_masked")
    readonly_fields = fields
    search_fields = ("order_id", "case__number")
    list_select_related = ("case",)
    date_hierarchy = "received_at"

    @admin.display(description=_("来电号码"))
    def caller_phone_masked(self, order: WorkOrder) -> str:
        return _masked(order.caller_phone)

    @admin.display(description=_("原始报文"))
    def payload_masked(self, order: WorkOrder) -> str:
        payload = dict(order.payload)
        if isinstance(payload.get("caller_phone"), str):
            payload["caller_phone"] = _masked(payload["caller_phone"])
        return json.dumps(payload, ensure_ascii=False, indent=2)


@admin.register(Callback)
class CallbackAdmin(_ReadOnly):
    list_display = ("id", "case", "kind", "status", "attempts", "next_attempt_at", "delivered_at", "last_error")
    list_filter = ("status", "kind")
    search_fields = ("case__number", "payload__order_id")
    list_select_related = ("case",)
    actions = ["retry_now"]

    def has_change_permission(self, request, obj=None):
        # The "retry now" action needs it; every field stays read-only (get_readonly_fields).
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "callback_counts": selectors.callback_counts()}
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("立即重试所选回调"), permissions=["change"])
    def retry_now(self, request, queryset):
        count = services.callbacks_retry_now(queryset)
        delivered = services.hotline_callbacks_send()
        self.message_user(
            request,
            ngettext(
                "%(count)d 条回调已重新排队，本次送达 %(delivered)d 条。",
                "%(count)d 条回调已重新排队，本次送达 %(delivered)d 条。",
                count,
            )
            % {"count": count, "delivered": delivered},
            level=messages.INFO,
        )


@admin.register(VisitResult)
class VisitResultAdmin(_ReadOnly):
    list_display = ("work_order", "case", "satisfaction", "visited_at", "note")
    list_filter = ("satisfaction",)
    search_fields = ("work_order__order_id", "case__number")
    list_select_related = ("work_order", "case")
    date_hierarchy = "visited_at"

    def changelist_view(self, request, extra_context=None):
        now = timezone.now()
        extra_context = {
            **(extra_context or {}),
            "satisfaction_30d": selectors.hotline_satisfaction(now - timedelta(days=30), now),
            "satisfaction_all": selectors.hotline_satisfaction(),
        }
        return super().changelist_view(request, extra_context)
