from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from civicgrid.open311.models import App, ServiceAttribute, Submission


def _show_key(request: HttpRequest, app: App, key: str) -> TemplateResponse:
    # Rendered straight into the response, never put in messages (a cookie or the session)
    # or a log: this page is the only place the key is ever shown.
    response = TemplateResponse(
        request,
        "admin/open311/key_issued.html",
        {**admin.site.each_context(request), "app": app, "key": key, "title": _("API 密钥已签发")},
    )
    response["Cache-Control"] = "no-store"
    return response


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    list_display = ("name", "contact", "key_hint", "is_active", "key_issued_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "contact")
    readonly_fields = ("key_hint", "key_issued_at", "created_at")
    fields = ("name", "contact", "is_active", "note", "key_hint", "key_issued_at", "created_at")
    actions = ["issue_new_key"]

    def save_model(self, request, obj: App, form, change: bool) -> None:
        if not change:
            request._open311_key = obj.issue_key()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj: App, post_url_continue=None) -> HttpResponse:
        key = getattr(request, "_open311_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        return _show_key(request, obj, key)

    @admin.action(description=_("签发新密钥（旧密钥立即失效）"))
    def issue_new_key(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个应用。"), level=messages.WARNING)
            return None
        app = queryset.get()
        key = app.issue_key()
        app.save(update_fields=["key_hash", "key_hint", "key_issued_at"])
        return _show_key(request, app, key)


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ("category", "order", "code", "datatype", "required", "variable", "description")
    list_filter = ("datatype", "required")
    search_fields = ("code", "description", "category__name")
    list_select_related = ("category",)
    fields = (
        "category",
        "order",
        "code",
        "description",
        "variable",
        "datatype",
        "required",
        "datatype_description",
        "values",
    )


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("case", "app", "created_at", "client_ip")
    list_filter = ("app",)
    search_fields = ("case__number", "token")
    list_select_related = ("case", "app")
    readonly_fields = [f.name for f in Submission._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
