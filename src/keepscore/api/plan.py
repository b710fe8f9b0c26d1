"""The year's plan as JSON: ``GET /plan/{year}`` (any member) and ``PUT /plan/{year}``
(owners and marketing members) — ``keepscore.plan.report_json.report_dict``, the same as
``keepscore plan --format json``. docs/numbers.md, "The plan", says how each figure is
worked back from the goal.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema

from keepscore.api.auth import member_of, organization_of
from keepscore.api.metrics import WRITE_ERRORS
from keepscore.api.schemas import ERRORS
from keepscore.plan.report_json import report_dict
from keepscore.plan.selectors import plan_report
from keepscore.plan.services import plan_accept, plan_save

router = Router(tags=["plan"])
Year = Path(..., ge=2000, le=2100, description="The plan's calendar year.")


class GoalOut(Schema):
    kind: Literal["revenue", "margin", "customers"]
    amount: float


class PlanOut(Schema):
    year: int
    currency: str = Field(description="The organization's currency (ISO 4217).")
    goal: GoalOut | None = Field(description="The year's goal; null until one is set.")
    measured_on: dict[str, Any] = Field(
        description="The 12 complete months the money, cycle and channels are measured on, "
        "and the months of the leads the rates are measured on (old enough to have closed)."
    )
    assumptions: dict[str, Any] = Field(
        description="Each assumption: measured (k of n and the 95% interval for a rate), the "
        "value the plan uses, whether it is set by hand, and its source in words."
    )
    overrides: dict[str, float] = Field(description="The assumptions set by hand.")
    missing: list[str] = Field(
        description="What the plan cannot measure and needs set by hand (then plan is null)."
    )
    accepted_at: str | None = Field(description="When the plan last wrote the targets.")
    plan: dict[str, Any] | None = Field(
        description="Customers, leads and spend of the year with their 80% ranges, and per "
        "month: customers, proposals, qualified leads, leads (arriving a sales cycle before "
        "their customers close), revenue, spend, and each channel's leads and spend."
    )


class PlanIn(Schema):
    goal_kind: Literal["revenue", "margin", "customers"]
    goal_amount: float = Field(gt=0)
    overrides: dict[str, float | str | None] = Field(
        default_factory=dict,
        description="deal_value, margin_pct, to_qualified, to_proposal, to_customer (fractions, "
        "or percent points above 1), cycle_months, share:<channel key>, cost_per_lead:<channel "
        "key>. A missing or null one is measured.",
    )


@router.get("/plan/{year}", response={200: PlanOut, **ERRORS}, summary="The year's plan")
def plan_read(request: HttpRequest, year: int = Year) -> Any:
    organization = organization_of(request)
    return report_dict(plan_report(organization=organization, year=year), organization.currency)


@router.put("/plan/{year}", response={200: PlanOut, **WRITE_ERRORS}, summary="Set the year's plan")
def plan_write(request: HttpRequest, payload: PlanIn, year: int = Year) -> Any:
    """Sets the goal and the assumptions set by hand (all of them: one left out is measured
    again). A bad one is a 422 naming it, and nothing changes."""
    organization = organization_of(request)
    report = plan_save(
        organization=organization,
        year=year,
        goal_kind=payload.goal_kind,
        goal_amount=payload.goal_amount,
        overrides=payload.overrides,
        by=member_of(request),
    )
    return report_dict(report, organization.currency)


class AcceptIn(Schema):
    replace: bool = Field(
        default=False, description="Replace the targets typed by hand too (else kept)."
    )


class AcceptOut(Schema):
    written: int = Field(description="Targets and goals written.")
    kept: list[str] = Field(description="Targets typed by hand that were kept, in words.")


@router.post(
    "/plan/{year}/accept",
    response={200: AcceptOut, **WRITE_ERRORS},
    summary="Write the plan's targets into the scorecard",
)
def plan_accept_write(request: HttpRequest, payload: AcceptIn, year: int = Year) -> Any:
    """The stored plan's monthly targets (new leads, qualified leads, proposals, customers,
    revenue, marketing spend; each year rounded once, counts up, and split over the months),
    its goal and those metrics' annual goals. 422 without a plan."""
    done = plan_accept(
        organization=organization_of(request),
        year=year,
        by=member_of(request),
        replace=payload.replace,
    )
    return {"written": done.written, "kept": done.kept}
