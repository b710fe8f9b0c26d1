from django.apps import AppConfig


class FunnelConfig(AppConfig):
    name = "keepscore.funnel"
    label = "funnel"
