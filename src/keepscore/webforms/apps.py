from django.apps import AppConfig


class WebformsConfig(AppConfig):
    name = "keepscore.webforms"
    label = "webforms"
