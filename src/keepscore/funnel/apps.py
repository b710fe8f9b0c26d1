"""The funnel app; when Django starts, its summaries register as a projection of the history."""

from django.apps import AppConfig


class FunnelConfig(AppConfig):
    name = "keepscore.funnel"
    label = "funnel"

    def ready(self) -> None:
        from keepscore.funnel.summary.projection import SummaryProjection
        from keepscore.history.projections import register

        register(SummaryProjection())
