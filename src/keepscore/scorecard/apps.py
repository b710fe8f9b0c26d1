from django.apps import AppConfig


class ScorecardConfig(AppConfig):
    name = "keepscore.scorecard"
    label = "scorecard"
