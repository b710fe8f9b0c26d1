"""The follow-ups app; when Django starts, it gives the lead list its next-step filter."""

from django.apps import AppConfig


class FollowUpsConfig(AppConfig):
    name = "keepscore.followups"
    label = "followups"
    verbose_name = "follow-ups"

    def ready(self) -> None:
        # the lead list's "next step" filter is a rule of the follow-ups (leads does not
        # import this app)
        from keepscore.followups.selectors import next_step_filter
        from keepscore.leads.selectors import LIST_FILTERS

        LIST_FILTERS["next_step"] = next_step_filter
