from django.apps import AppConfig


class EconomicsConfig(AppConfig):
    name = "keepscore.economics"
    label = "economics"
    verbose_name = "Money: spend, products, margins and cash"
