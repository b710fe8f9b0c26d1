"""The history app; when Django starts, a member's deletion is told to the projections."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, pre_delete


def _member_deleting(sender: Any, instance: Any, origin: Any = None, **kwargs: Any) -> None:
    from django.db.models import QuerySet

    from keepscore.accounts.models import Organization
    from keepscore.history.recorder import member_leaving

    if isinstance(origin, Organization) or (
        isinstance(origin, QuerySet) and origin.model is Organization
    ):
        return  # the whole organization goes, its summaries with it
    instance._history_rows = member_leaving(membership=instance)


def _member_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    from keepscore.history.recorder import member_left

    rows = getattr(instance, "_history_rows", None)
    if rows is not None:
        leads, activities = rows
        member_left(membership=instance, leads=leads, activities=activities)


class HistoryConfig(AppConfig):
    name = "keepscore.history"
    label = "history"

    def ready(self) -> None:
        # a member deleted (or their user): the database clears the owner of their leads
        # and the author of their activities; the projections count those again
        pre_delete.connect(_member_deleting, sender="accounts.Membership")
        post_delete.connect(_member_deleted, sender="accounts.Membership")
