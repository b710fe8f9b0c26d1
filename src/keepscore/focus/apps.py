"""The focus app; when Django starts, a new review entry is made to keep its diagnosis."""

from django.apps import AppConfig


class FocusConfig(AppConfig):
    name = "keepscore.focus"
    label = "focus"
    verbose_name = "Focus: sales or marketing?"

    def ready(self) -> None:
        # each new review entry keeps the month's diagnosis with it (the scorecard does not
        # import the focus, which builds on it)
        from keepscore.focus.services import keep
        from keepscore.scorecard.services import REVIEW_KEEPERS

        if keep not in REVIEW_KEEPERS:
            REVIEW_KEEPERS.append(keep)
