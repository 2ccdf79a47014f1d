from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "civicgrid.evaluation"
    label = "evaluation"
    verbose_name = _("综合评价")
    default_auto_field = "django.db.models.BigAutoField"
