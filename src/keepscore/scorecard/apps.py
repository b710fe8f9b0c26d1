"""The scorecard app; when Django starts, changes raise the data revision kept figures depend on."""

from django.apps import AppConfig


class ScorecardConfig(AppConfig):
    name = "keepscore.scorecard"
    label = "scorecard"

    def ready(self) -> None:
        from keepscore.scorecard import kept

        kept.connect()  # the data revision the kept PDFs depend on
