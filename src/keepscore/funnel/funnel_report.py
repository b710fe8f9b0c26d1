"""The funnel report: its shape (groups of stage counts and step conversions), its steps
and their cohorts, and its assembly from each group's tally. Shared by the reference
(``keepscore.funnel.selectors.funnel_reference``) and the summaries (``summary.readers``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from keepscore.common.periods import Period
from keepscore.funnel.ladder import History, Ladder, observed_dates
from keepscore.funnel.stats import RateFigure, rate
from keepscore.leads.models import StageKind


@dataclass(frozen=True)
class FunnelStage:
    """A stage's line in the funnel report (not the summaries' ``funnel.models.StageCount``,
    the leads now at a stage)."""

    key: str
    name: str
    reached: int  # leads whose reach date for the stage is in the period
    entered: int  # flow: leads with a stage change into the stage dated in the period
    skipped: int = 0  # of the reached, those that reached it by entering a later stage


@dataclass(frozen=True)
class StepConversion:
    """A step's cohort conversion. A step between two stages judges the leads first observed
    at the first one in the period; the overall step (``overall``: the first stage to won)
    every lead that entered the funnel in the period, at whatever stage."""

    from_key: str
    to_key: str
    rate: RateFigure
    overall: bool = False

    def as_dict(self) -> dict[str, Any]:
        r = self.rate
        return {
            "from": self.from_key,
            "to": self.to_key,
            "overall": self.overall,
            "k": r.k,
            "n": r.n,
            "rate": r.rate,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "enough": r.enough,
        }


@dataclass(frozen=True)
class FunnelGroup:
    key: str
    label: str
    stages: list[FunnelStage]
    conversions: list[StepConversion]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "stages": [
                {
                    "key": s.key,
                    "name": s.name,
                    "reached": s.reached,
                    "entered": s.entered,
                    "skipped": s.skipped,
                }
                for s in self.stages
            ],
            "conversions": [c.as_dict() for c in self.conversions],
        }


@dataclass(frozen=True)
class FunnelReport:
    period: Period
    by: str | None
    within_days: int | None
    groups: list[FunnelGroup] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The stable JSON shape (see docs/numbers.md)."""
        return {
            "period": self.period.as_dict(),
            "by": self.by,
            "within_days": self.within_days,
            "groups": [g.as_dict() for g in self.groups],
        }


def funnel_steps(ladder: Ladder) -> list[tuple[int, int]]:
    """Each consecutive pair of not-lost stages, then the first stage to each won stage (the
    overall steps, :func:`overall_steps`)."""
    climbing = ladder.climbing
    steps = list(itertools.pairwise(climbing))
    if climbing:
        first = climbing[0]
        for i, s in enumerate(ladder.stages):
            if s.kind == StageKind.WON and i != first and (first, i) not in steps:
                steps.append((first, i))
    return steps


def overall_steps(ladder: Ladder) -> frozenset[int]:
    """The indexes in :func:`funnel_steps` of the overall steps: their cohort is every lead
    entering the funnel in the period (its first stage change), whatever its first stage."""
    consecutive = max(len(ladder.climbing) - 1, 0)
    return frozenset(range(consecutive, len(funnel_steps(ladder))))


def cohort_since(history: History, ladder: Ladder, source: int, overall: bool) -> datetime | None:
    """When a lead joins a step's cohort: its first observation of the step's first stage,
    or (an overall step) its entry into the funnel."""
    if overall:
        return history[0][0] if history else None
    return observed_dates(history, ladder)[source]


class Tally:
    """One group's counts: reached, entered and skipped per stage, k and n per step."""

    def __init__(self, size: int, steps: int) -> None:
        self.reached = [0] * size
        self.entered = [0] * size
        self.skipped = [0] * size
        self.k = [0] * steps
        self.n = [0] * steps

    def busy(self) -> bool:
        return any(self.reached) or any(self.entered)


def report_assemble(
    ladder: Ladder,
    period: Period,
    by: str | None,
    within_days: int | None,
    tallies: dict[str, Tally],
    labels: dict[str, str],
) -> FunnelReport:
    """The report of these groups' counts (from the stage changes or from the summaries):
    stages in report order, a rate per step, groups by first-stage reach (most first), then
    label."""
    steps = funnel_steps(ladder)
    overall = overall_steps(ladder)
    first = ladder.climbing[0] if ladder.climbing else 0
    order = ladder.report_order()
    report_groups = [
        FunnelGroup(
            key=key,
            label=labels[key],
            stages=[
                FunnelStage(
                    key=ladder.stages[i].key,
                    name=ladder.stages[i].name,
                    reached=tally.reached[i],
                    entered=tally.entered[i],
                    skipped=tally.skipped[i],
                )
                for i in order
            ],
            conversions=[
                StepConversion(
                    from_key=ladder.stages[source].key,
                    to_key=ladder.stages[target].key,
                    rate=rate(tally.k[j], tally.n[j]),
                    overall=j in overall,
                )
                for j, (source, target) in enumerate(steps)
            ],
        )
        for key, tally in tallies.items()
    ]
    report_groups.sort(key=lambda g: (-g.stages[order.index(first)].reached, g.label, g.key))
    return FunnelReport(period=period, by=by, within_days=within_days, groups=report_groups)
