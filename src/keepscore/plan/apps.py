from django.apps import AppConfig


class PlanConfig(AppConfig):
    name = "keepscore.plan"
    label = "plan"
    verbose_name = "plan"
