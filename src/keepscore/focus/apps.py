"""The focus app; when Django starts, a new review entry is made to keep its diagnosis."""

from typing import Any

from django.apps import AppConfig


def keep(*args: Any, **kwargs: Any) -> object:
    """Keep the month's diagnosis with a new review entry (``focus.services.keep``, imported
    at the first entry: Django starts without loading the diagnosis)."""
    from keepscore.focus.services import keep as diagnosis_keep

    return diagnosis_keep(*args, **kwargs)


class FocusConfig(AppConfig):
    name = "keepscore.focus"
    label = "focus"
    verbose_name = "Focus: sales or marketing?"

    def ready(self) -> None:
        # each new review entry keeps the month's diagnosis with it (the scorecard does not
        # import the focus, which builds on it)
        from keepscore.scorecard.services import REVIEW_KEEPERS

        if keep not in REVIEW_KEEPERS:
            REVIEW_KEEPERS.append(keep)
