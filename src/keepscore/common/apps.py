"""The common app: tenancy, money, days and months, and the pieces every app shares."""

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "keepscore.common"
    label = "common"
