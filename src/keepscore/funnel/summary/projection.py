"""The summaries as a projection of the history: the recorder tells them of every change
(``keepscore.history``), and only the recorder."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from keepscore.accounts.models import Organization
from keepscore.activities.models import Activity, Objection
from keepscore.funnel.summary import upkeep, verify
from keepscore.history.projections import Difference, Projection, Written

if TYPE_CHECKING:
    from keepscore.history.projections import LeadSet


class SummaryProjection(Projection):
    """``keepscore.funnel.summary``'s tables, kept by the recorder."""

    name = verify.NAME
    #: what the counts are grouped or dated by: changing one re-counts the lead
    lead_fields = frozenset({"owner", "sourced_by", "channel", "stage", "first_touch_at"})
    tables = upkeep.TABLES

    def leads_forget(self, organization: Organization, leads: LeadSet) -> None:
        upkeep.leads_forget(organization, leads)

    def leads_count(self, organization: Organization, leads: LeadSet) -> None:
        upkeep.leads_count(organization, leads)

    def activities_add(
        self, organization: Organization, activities: Iterable[Activity] | QuerySet[Activity]
    ) -> None:
        upkeep.activities_add(organization, activities)

    def activities_forget(self, organization: Organization, activities: QuerySet[Activity]) -> None:
        upkeep.activities_forget(organization, activities)

    def objections_add(self, organization: Organization, objections: Iterable[Objection]) -> None:
        upkeep.objections_add(organization, objections)

    def block_count(self, organization: Organization, written: Written) -> None:
        if not upkeep.ready(organization):
            # built from every stored row, the block's among them: none is added again
            upkeep.rebuild(organization)
            return
        super().block_count(organization, written)

    def ladder_changed(self, organization: Organization) -> None:
        upkeep.ladder_changed(organization)

    def rebuild(self, organization: Organization) -> None:
        upkeep.rebuild(organization)

    def verify(self, organization: Organization) -> list[Difference]:
        return verify.verify(organization)
