from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "keepscore.api"
    verbose_name = "REST API"
