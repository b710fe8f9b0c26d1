from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "keepscore.activities"
    label = "activities"
