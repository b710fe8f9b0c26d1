"""The web forms app: embeddable forms whose submissions become leads."""

from django.apps import AppConfig


class WebformsConfig(AppConfig):
    name = "keepscore.webforms"
    label = "webforms"
