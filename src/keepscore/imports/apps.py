from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "keepscore.imports"
    label = "imports"
