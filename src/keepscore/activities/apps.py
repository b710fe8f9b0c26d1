"""The activities app: calls, meetings, presentations, proposals and objections."""

from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "keepscore.activities"
    label = "activities"
