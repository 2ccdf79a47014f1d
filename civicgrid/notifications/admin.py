from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.notifications.models import MessageTemplate, Notification, NotificationSubscription


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("key", "channel", "language", "subject", "updated_at")
    list_filter = ("key", "channel", "language")
    search_fields = ("subject", "body")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read-only: phone numbers and e-mail addresses are shown masked."""

    list_display = ("created_at", "kind", "channel", "recipient_display", "case", "status", "attempts", "sent_at")
    list_filter = ("status", "channel", "kind")
    search_fields = ("case__number", "user__username")
    list_select_related = ("case", "user")
    fields = (
        "kind",
        "channel",
        "recipient_display",
        "case",
        "subject",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields
    actions = ["send_again"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("重新发送失败的消息"), permissions=["view"])
    def send_again(self, request, queryset) -> None:
        count = queryset.filter(status=Notification.Status.FAILED).update(
            status=Notification.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        self.message_user(request, _("%(count)s 条消息将重新发送。") % {"count": count}, messages.SUCCESS)


@admin.register(NotificationSubscription)
class NotificationSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "statuses", "created_at")
    search_fields = ("case__number",)
    fields = ("case", "statuses", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False
