"""The funnel app; when Django starts, its summaries register as a projection of the history,
and the lead list gets its "reached" filter (leads does not import this app)."""

from django.apps import AppConfig


class FunnelConfig(AppConfig):
    name = "keepscore.funnel"
    label = "funnel"

    def ready(self) -> None:
        from keepscore.funnel.summary.projection import SummaryProjection
        from keepscore.history.projections import register

        register(SummaryProjection())

        from keepscore.funnel.selectors import reached_filter
        from keepscore.leads.selectors import LIST_FILTERS

        LIST_FILTERS["reached"] = reached_filter
