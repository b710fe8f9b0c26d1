"""How the funnel report is shown, the same on the web page, in the terminal and in the
scorecard's PDF: each step's name ("New leads → Won" for the overall step), the stages a
funnel chart draws (lost stages left out: a chart of reaching) and a group's overall step."""

from __future__ import annotations

from collections.abc import Mapping

from keepscore.funnel.funnel_report import FunnelGroup, StepConversion
from keepscore.funnel.ladder import Ladder

ARROW = "\u2192"
#: what the overall step starts from: every lead that entered the funnel, at whatever stage
NEW_LEADS = "New leads"


def step_name(*, step: StepConversion, names: Mapping[str, str], arrow: str = ARROW) -> str:
    """ "Qualified → Proposal"; the overall step "New leads → Won" (``names``: stage key to
    name; a key without a name is shown as it is)."""
    start = NEW_LEADS if step.overall else names.get(step.from_key, step.from_key)
    return f"{start} {arrow} {names.get(step.to_key, step.to_key)}"


def step_key(*, step: StepConversion) -> str:
    """The step as a filter value: ``from_key>to_key``."""
    return f"{step.from_key}>{step.to_key}"


def overall_step(*, group: FunnelGroup) -> StepConversion | None:
    """The group's overall step (first stage to won), None when the ladder has no won stage."""
    return next((c for c in group.conversions if c.overall), None)


def chart_stages(*, group: FunnelGroup, ladder: Ladder) -> list[tuple[str, int]]:
    """The stages a funnel chart draws, in ladder order, with the leads reaching each: the
    lost stages are left out (a lead reaches them only by entering them)."""
    lost = {ladder.stages[i].key for i in ladder.lost}
    return [(s.name, s.reached) for s in group.stages if s.key not in lost]
