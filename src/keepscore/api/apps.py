"""The REST API app (django-ninja, under /api/v1/)."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "keepscore.api"
    verbose_name = "REST API"
