"""The demo's next steps: follow-ups for most open leads worked lately, some of them overdue."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from keepscore.demo.draws import pick, utc_moment
from keepscore.demo.plans import LeadPlan

#: the share of open leads worked lately (an activity in the last FOLLOWUP_RECENT_DAYS) that
#: have a next step; their due days fall from FOLLOWUP_DUE[0] (overdue) to FOLLOWUP_DUE[1]
FOLLOWUP_SHARE = 0.75
FOLLOWUP_RECENT_DAYS = 45
FOLLOWUP_DUE = (-6, 10)


def followups_setup(
    organization: Any,
    leads: Sequence[Any],
    plans: Sequence[LeadPlan],
    stages: dict[str, Any],
    today: date,
    seed: int,
) -> int:
    """Next steps for most open leads worked lately: some overdue, some due today, most
    ahead; calls and emails early in the funnel, meetings and proposals later."""
    from keepscore.followups.models import FollowUp

    rng = random.Random(seed * 7919 + 11)
    recent = utc_moment(today - timedelta(days=FOLLOWUP_RECENT_DAYS), 0, 0)
    rows = []
    for lead, plan in zip(leads, plans, strict=True):
        stage = stages[plan.stage]
        if stage.kind != "open" or lead.owner is None:
            continue
        last = max([plan.last_at, *(a.at for a in plan.activities)])
        if last < recent or rng.random() > FOLLOWUP_SHARE:
            continue
        late = stage.requires_qualification or stage.key in ("qualified", "proposal")
        kinds = (
            [("meeting", 0.4), ("proposal", 0.3), ("call", 0.3)]
            if late
            else [
                ("call", 0.6),
                ("email", 0.3),
                ("meeting", 0.1),
            ]
        )
        rows.append(
            FollowUp(
                organization=organization,
                lead=lead,
                kind=pick(rng, kinds),
                due_on=today + timedelta(days=rng.randint(*FOLLOWUP_DUE)),
                owner=lead.owner,
                created_by=lead.owner,
            )
        )
    FollowUp.objects.bulk_create(rows, batch_size=500)
    return len(rows)
