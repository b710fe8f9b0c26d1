"""The funnel's presenters (``funnel.presenters``): the step names, the stages a funnel chart
draws and the overall step, shared by the page, the terminal and the scorecard's PDF."""

from __future__ import annotations

import itertools

from keepscore.accounts.models import Organization
from keepscore.funnel.funnel_report import FunnelGroup, FunnelStage, StepConversion
from keepscore.funnel.ladder import Ladder
from keepscore.funnel.presenters import chart_stages, overall_step, step_key, step_name
from keepscore.funnel.stats import rate
from keepscore.leads.models import Stage, StageKind


def _group(stages: list[Stage]) -> FunnelGroup:
    climbing = [s for s in stages if s.kind != StageKind.LOST]
    steps = [StepConversion(a.key, b.key, rate(1, 2)) for a, b in itertools.pairwise(climbing)]
    won = [s for s in climbing if s.kind == StageKind.WON]
    if won:
        steps.append(StepConversion(climbing[0].key, won[0].key, rate(1, 4), overall=True))
    return FunnelGroup(
        "all",
        "All leads",
        [FunnelStage(s.key, s.name, 10 - i, 1) for i, s in enumerate(stages)],
        steps,
    )


def test_step_names_chart_stages_and_the_overall_step(org_a: Organization) -> None:
    stages = list(Stage.objects.for_org(org_a).order_by("position", "id"))
    ladder = Ladder.of(org_a)
    group = _group(stages)
    names = {s.key: s.name for s in stages}
    first, second = stages[0], stages[1]

    step = group.conversions[0]
    assert step_name(step=step, names=names) == f"{first.name} \u2192 {second.name}"
    assert step_name(step=step, names=names, arrow="->") == f"{first.name} -> {second.name}"
    assert step_key(step=step) == f"{first.key}>{second.key}"
    assert step_name(step=step, names={}) == f"{first.key} \u2192 {second.key}"

    overall = overall_step(group=group)
    won = next(s for s in stages if s.kind == StageKind.WON)
    assert overall is group.conversions[-1]
    assert step_name(step=overall, names=names) == f"New leads \u2192 {won.name}"

    lost = {s.name for s in stages if s.kind == StageKind.LOST}
    drawn = chart_stages(group=group, ladder=ladder)
    assert lost and not lost & {name for name, _ in drawn}
    assert drawn == [(s.name, 10 - i) for i, s in enumerate(stages) if s.kind != StageKind.LOST]


def test_without_a_won_stage_there_is_no_overall_step(org_a: Organization) -> None:
    stages = [s for s in Stage.objects.for_org(org_a) if s.kind != StageKind.WON]
    group = _group(stages)
    assert group.conversions  # steps between the open stages
    assert overall_step(group=group) is None
