"""The privacy app: a person's data found, exported and erased."""

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "keepscore.privacy"
    label = "privacy"
    verbose_name = "a person's data"
