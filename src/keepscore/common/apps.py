from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "keepscore.common"
    label = "common"
