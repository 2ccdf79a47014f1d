from django.contrib import admin

from civicgrid.evaluation.models import EvaluationSettings, GradeBand, IndicatorWeight


@admin.register(EvaluationSettings)
class EvaluationSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "exclude_deferred", "basically_satisfied_counts", "satisfaction_target")

    def has_add_permission(self, request) -> bool:
        # One row (pk=1), created by the migration.
        return not EvaluationSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IndicatorWeight)
class IndicatorWeightAdmin(admin.ModelAdmin):
    list_display = ("object_type", "indicator", "indicator_label", "weight", "direction")
    list_editable = ("weight", "direction")
    list_filter = ("object_type",)


@admin.register(GradeBand)
class GradeBandAdmin(admin.ModelAdmin):
    list_display = ("grade", "min_score")
    list_editable = ("min_score",)
