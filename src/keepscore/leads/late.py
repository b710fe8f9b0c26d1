"""Late stages and stalled leads: the open stages from the qualified one on, where a lead
waiting ``STALL_DAYS`` or more is stalled. The focus diagnosis, the board, the lead list and
Today read them here, so they count the same leads."""

from __future__ import annotations

from collections.abc import Sequence

from keepscore.accounts.models import Organization
from keepscore.leads.models import Stage, StageKind

#: days at a late stage after which an open lead is stalled
STALL_DAYS = 21
#: the same wait as people say it, in every sentence about stalled leads: "3 weeks"
STALL_WAIT = f"{STALL_DAYS // 7} weeks" if STALL_DAYS % 7 == 0 else f"{STALL_DAYS} days"


def qualified_index(stages: Sequence[Stage]) -> int | None:
    """The qualified stage's index in ``stages`` (ladder order): the first open stage that
    requires qualification, else the one keyed "qualified"; None without either."""
    gated = [
        i for i, s in enumerate(stages) if s.requires_qualification and s.kind == StageKind.OPEN
    ]
    if gated:
        return gated[0]
    keyed = [i for i, s in enumerate(stages) if s.key == "qualified"]
    return keyed[0] if keyed else None


def late_stage_indexes(stages: Sequence[Stage]) -> list[int]:
    """The late stages' indexes in ``stages`` (ladder order): the open stages from the
    qualified one on, else the last two open stages."""
    qualified = qualified_index(stages)
    open_stages = [i for i, s in enumerate(stages) if s.kind == StageKind.OPEN]
    if qualified is not None:
        return [i for i in open_stages if i >= qualified]
    return open_stages[-2:]


def late_stages(organization: Organization) -> list[Stage]:
    """The organization's late stages, in ladder order (position, then id)."""
    stages = list(Stage.objects.for_org(organization).order_by("position", "id"))
    return [stages[i] for i in late_stage_indexes(stages)]
