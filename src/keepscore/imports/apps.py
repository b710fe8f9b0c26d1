"""The imports app: leads, deals, spend, targets and archives read from files."""

from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "keepscore.imports"
    label = "imports"
