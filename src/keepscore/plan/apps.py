"""The plan app: the year's plan from the goal back to the leads it needs."""

from django.apps import AppConfig


class PlanConfig(AppConfig):
    name = "keepscore.plan"
    label = "plan"
    verbose_name = "plan"
