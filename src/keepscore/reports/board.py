"""The board: one column per stage. An open stage shows its count, the total value of its
leads and its most recently moved leads (at most ``PER_COLUMN``, the rest a link to the
list); a won or lost stage collapses to the leads that reached it in the period.

Every read is one indexed query, whatever the number of leads: the counts and totals per
open stage (from the index ``lead_org_stage_open`` alone: organization, stage,
stage_entered_at, value, first_touch_at), the newest cards of each column (the same index, read
backwards), the period's entries into each closed stage (``sc_org_to_at_lead``), its won deals
(``outcome_org_at_cover``) and the next steps of the cards shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.days import day_start
from keepscore.followups.selectors import attach_next_steps
from keepscore.leads.late import STALL_DAYS, late_stages
from keepscore.leads.models import DealOutcome, Lead, Stage, StageChange, StageKind
from keepscore.leads.selectors import LeadFilters, lead_list

CENT = Decimal("0.01")
#: cards shown per open column (the others: "all N in the list")
PER_COLUMN = 30
#: what a card shows (only these are read)
CARD_FIELDS = ("id", "name", "company", "value", "stage_id", "stage_entered_at")


@dataclass
class BoardColumn:
    stage: Stage
    count: int
    total: Decimal  # the open leads' values summed (a lead without a value adds nothing)
    leads: list[Lead] = field(default_factory=list)

    @property
    def collapsed(self) -> bool:
        """A won or lost stage: the leads that reached it in the period, as a count."""
        return self.stage.kind != StageKind.OPEN

    @property
    def more(self) -> int:
        """Open leads at the stage not shown as cards (a closed column shows none)."""
        return 0 if self.collapsed else max(0, self.count - len(self.leads))


@dataclass(frozen=True)
class Board:
    columns: list[BoardColumn]
    period_start: date
    stall_days: int
    late: frozenset[int]  # the late stages' ids: a card there past stall_days is stalled

    def stalled(self, lead: Lead) -> bool:
        """At a late stage for STALL_DAYS calendar days or more (as the focus counts)."""
        return lead.stage_id in self.late and lead.days_at_stage >= self.stall_days


def board(
    organization: Organization,
    *,
    filters: LeadFilters | None = None,
    period_start: date | None = None,
    per_column: int = PER_COLUMN,
) -> Board:
    """The board of the leads ``filters`` keep; closed stages count from ``period_start``
    (the first of this month unless given)."""

    period_start = period_start or timezone.localdate().replace(day=1)
    stages = list(Stage.objects.for_org(organization))
    base = lead_list(organization=organization, filters=filters)
    open_ids = [s.pk for s in stages if s.kind == StageKind.OPEN]
    totals = {
        row["stage"]: (row["n"], _cents(row["total"]))
        for row in base.filter(stage_id__in=open_ids)
        .order_by()
        .values("stage")
        .annotate(n=Count("*"), total=Sum("value"))
    }
    closed_stages = [s for s in stages if s.kind != StageKind.OPEN]
    closed = _closed(organization, closed_stages, base, filters, period_start)
    cards_of = base.select_related(None).only(*CARD_FIELDS)
    columns = []
    for stage in stages:
        if stage.kind == StageKind.OPEN:
            n, total = totals.get(stage.pk, (0, Decimal(0)))
            newest = cards_of.filter(stage=stage).order_by("-stage_entered_at", "-id")
            cards = list(newest[:per_column])
            for card in cards:
                card.stage = stage  # known: no query per card
            columns.append(BoardColumn(stage, n, total, cards))
        else:
            n, total = closed.get(stage.pk, (0, Decimal(0)))
            columns.append(BoardColumn(stage, n, total))

    attach_next_steps(leads=[lead for c in columns for lead in c.leads])
    return Board(
        columns=columns,
        period_start=period_start,
        stall_days=STALL_DAYS,
        late=frozenset(s.pk for s in late_stages(organization)),
    )


def _closed(
    organization: Organization,
    stages: list[Stage],
    base: QuerySet[Lead],
    filters: LeadFilters | None,
    period_start: date,
) -> dict[int, tuple[int, Decimal]]:
    """Per won or lost stage: the leads that entered it since the period's start, and the
    revenue of the deals won then (0 for a lost stage)."""
    if not stages:
        return {}
    since = day_start(period_start)
    changes = StageChange.objects.for_org(organization).filter(
        to_stage__in=[s.pk for s in stages], at__gte=since
    )
    if filters is not None and filters != LeadFilters():
        changes = changes.filter(lead__in=base.values("pk"))
    counts = dict(
        changes.order_by()
        .values("to_stage")
        .annotate(n=Count("lead", distinct=True))
        .values_list("to_stage", "n")
    )
    # the deals won in the period, by the index (organization, result, at): a won outcome is
    # dated at its stage change
    won = DealOutcome.objects.for_org(organization).filter(
        result=DealOutcome.Result.WON, at__gte=since
    )
    if filters is not None and filters != LeadFilters():
        won = won.filter(lead__in=base.values("pk"))
    revenue = dict(
        won.order_by()
        .values("stage_change__to_stage")
        .annotate(total=Sum("revenue"))
        .values_list("stage_change__to_stage", "total")
    )
    return {s.pk: (counts.get(s.pk, 0), _cents(revenue.get(s.pk))) for s in stages}


def _cents(total: object) -> Decimal:
    """A sum of money to the cent (SQLite adds decimals as floats: 115103185.509999)."""
    return Decimal(str(total or 0)).quantize(CENT)
