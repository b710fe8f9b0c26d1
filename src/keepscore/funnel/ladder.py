"""The organization's ladder of stages, and each lead's stage history on it: when it
reached each stage, when it was first observed at it, whether it skipped it.

A lead's history is its stage changes, oldest first, each as the ladder index of the stage
entered; the rules are those of ``docs/numbers.md`` ("Reach", "Cohorts").
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from keepscore.accounts.models import Organization
from keepscore.leads.models import Stage, StageChange, StageKind


@dataclass(frozen=True)
class Ladder:
    """The organization's stages in ladder order (position, then id)."""

    stages: tuple[Stage, ...]

    @classmethod
    def of(cls, organization: Organization) -> Ladder:
        stages = tuple(Stage.objects.for_org(organization).order_by("position", "id"))
        if not stages:
            raise ValueError(f"{organization} has no stages")
        return cls(stages)

    # computed once per ladder (the reference calls them for every lead and step)
    @functools.cached_property
    def index(self) -> dict[int, int]:
        return {s.pk: i for i, s in enumerate(self.stages)}

    @functools.cached_property
    def lost(self) -> frozenset[int]:
        """Indexes of the lost stages (reached only by entering them)."""
        return frozenset(i for i, s in enumerate(self.stages) if s.kind == StageKind.LOST)

    @functools.cached_property
    def climbing(self) -> tuple[int, ...]:
        """Indexes of the stages that are not lost: open and won, in ladder order."""
        return tuple(i for i, s in enumerate(self.stages) if s.kind != StageKind.LOST)

    def report_order(self) -> list[int]:
        """Ladder order with the lost stage(s) last."""
        return [*self.climbing, *sorted(self.lost)]

    def find(self, stage: Stage | str) -> int:
        """The index of a stage given as a Stage of this ladder or as its key."""
        for i, s in enumerate(self.stages):
            if (isinstance(stage, Stage) and s.pk == stage.pk) or s.key == stage:
                return i
        raise ValueError(f"no stage {stage!r} on this organization's ladder")

    def reaches(self, entered: int, target: int) -> bool:
        """Whether entering stage ``entered`` reaches stage ``target``.

        A lost stage is reached only by entering it; any other stage by entering it or any
        later stage on the ladder that is not lost.
        """
        lost = self.lost
        if target in lost:
            return entered == target
        return entered not in lost and entered >= target

    def reaching(self, target: Stage) -> list[int]:
        """The ids of the stages whose entry reaches ``target`` (it and every later stage
        that is not lost): reach as the funnel counts it."""
        index = self.find(target)
        return [s.pk for i, s in enumerate(self.stages) if self.reaches(i, index)]


#: a lead's stage changes as (at, ladder index of the stage entered), oldest first
History = list[tuple[datetime, int]]


def stage_history(
    organization: Organization,
    ladder: Ladder,
    leads: set[int] | None = None,
    until: datetime | None = None,
) -> dict[int, History]:
    """Every lead's stage changes (the first, from nothing, included), oldest first.

    Ties in time keep the order they were written in (id). ``until``: changes before it only.
    """
    index = ladder.index
    rows = StageChange.objects.for_org(organization)
    if until is not None:
        rows = rows.filter(at__lt=until)
    out: dict[int, History] = defaultdict(list)
    for lead, to_stage, at in (
        rows.order_by("lead_id", "at", "id")
        .values_list("lead_id", "to_stage_id", "at")
        .iterator(chunk_size=5000)
    ):
        if leads is None or lead in leads:
            out[lead].append((at, index[to_stage]))
    return out


def reach_dates(history: History, ladder: Ladder) -> list[datetime | None]:
    """When the lead first reached each stage of the ladder (None: never).

    Changes are oldest first, so the first entry that reaches a stage is its reach date.
    """
    reach: list[datetime | None] = [None] * len(ladder.stages)
    lost = ladder.lost
    top = -1  # the highest not-lost stage reached so far; all below it are reached too
    for at, entered in history:
        if entered in lost:
            if reach[entered] is None:
                reach[entered] = at
        elif entered > top:
            for i in range(top + 1, entered + 1):
                if i not in lost:
                    reach[i] = at
            top = entered
    return reach


def observed_dates(history: History, ladder: Ladder) -> list[datetime | None]:
    """When the lead was first *observed* at each stage: its first stage change into that
    stage itself (None: never). A stage reached only by entering a later one was skipped."""
    seen: list[datetime | None] = [None] * len(ladder.stages)
    for at, entered in history:
        if seen[entered] is None:
            seen[entered] = at
    return seen


def skipped_at(reach: datetime | None, observed: datetime | None) -> bool:
    """Whether a stage reached at ``reach`` was skipped then: not observed at it by that
    moment (reached by entering a later stage)."""
    return reach is not None and (observed is None or observed > reach)


def reached_after(
    history: History, ladder: Ladder, target: int, since: datetime, within: timedelta | None
) -> bool:
    """Whether the lead reached ``target`` at or after ``since`` (and within the window)."""
    for at, entered in history:
        if at < since:
            continue
        if within is not None and at - since > within:
            return False
        if ladder.reaches(entered, target):
            return True
    return False
