"""The metric catalogue: what each scorecard row is, never how it is computed.

Computed metrics follow the organization's ladder (``entered_<stage>`` and
``conversion_<a>_<b>`` for each stage and each consecutive pair of stages, lost excluded);
manual metrics are the organization's own (:class:`~keepscore.scorecard.models.ManualMetric`).
The computation lives in ``keepscore.scorecard.compute``.
"""

from __future__ import annotations

from itertools import pairwise

from django.core.exceptions import ValidationError

from keepscore.accounts.models import Organization
from keepscore.leads.models import Stage, StageKind
from keepscore.scorecard.models import ManualMetric
from keepscore.scorecard.types import MetricDef, Unit

#: key prefixes of the computed metrics that follow the ladder (manual keys may not use them)
LADDER_PREFIXES = ("entered_", "conversion_")


def _computed(key: str, name: str, group: str, unit: Unit, description: str) -> MetricDef:
    return MetricDef(key, name, group, unit, False, True, description)


#: the computed metrics that do not depend on the ladder, by group
LEAD_METRICS = (
    _computed("call_attempts", "Call attempts", "LEAD", "count", "Calls tried in the month."),
    _computed(
        "connects", "Connects", "LEAD", "count", "Calls that reached someone: real conversations."
    ),
    _computed(
        "sales_conversations",
        "Sales conversations",
        "LEAD",
        "count",
        "Connects and meetings with someone who can buy.",
    ),
    _computed(
        "qualifying_conversations",
        "Qualifying conversations",
        "LEAD",
        "count",
        "Conversations that checked a lead against the qualification criteria.",
    ),
    _computed("presentations", "Presentations", "LEAD", "count", "Presentations given."),
    _computed("proposals", "Proposals", "LEAD", "count", "Proposals sent."),
    MetricDef(
        "marketing_spend",
        "Marketing spend",
        "LEAD",
        "money",
        False,
        False,
        "Marketing spend entered for the month, every channel and campaign.",
    ),
    MetricDef(
        "cost_per_lead",
        "Cost per lead",
        "LEAD",
        "money",
        False,
        False,
        "Marketing spend of the month divided by its new leads.",
    ),
)
CUSTOMER_METRICS = (
    _computed("customers", "Customers", "CUSTOMER", "count", "Leads won in the month."),
    MetricDef("lost", "Lost", "CUSTOMER", "count", False, False, "Leads lost in the month."),
    _computed(
        "close_rate",
        "Close rate",
        "CUSTOMER",
        "percent",
        "Won / (won + lost) among the leads closed in the month.",
    ),
    _computed("revenue", "Revenue", "CUSTOMER", "money", "Revenue of the deals won."),
    _computed("margin", "Margin", "CUSTOMER", "money", "Revenue minus cost of the deals won."),
    _computed("margin_pct", "Margin %", "CUSTOMER", "percent", "Margin as a share of revenue."),
    MetricDef(
        "cost_per_customer",
        "Cost per customer",
        "CUSTOMER",
        "money",
        False,
        False,
        "Marketing spend of the month divided by the leads won for the first time in it.",
    ),
    _computed(
        "return_on_spend",
        "Return on spend",
        "CUSTOMER",
        "percent",
        "(Margin of the deals won - marketing spend) / marketing spend.",
    ),
    MetricDef(
        "sales_cycle_median",
        "Sales cycle (median)",
        "CUSTOMER",
        "days",
        False,
        False,
        "Median days from first touch to won, for the deals won in the month.",
    ),
    MetricDef(
        "sales_cycle_p80",
        "Sales cycle (80th percentile)",
        "CUSTOMER",
        "days",
        False,
        False,
        "80% of the deals won in the month took at most this many days from first touch.",
    ),
)
NEW_LEADS = _computed(
    "new_leads", "New leads", "SUSPECT", "count", "Leads recorded (first touch) in the month."
)
#: the ratios of spend: recomputed from the months' sums, never summed or projected
SPEND_RATIOS = frozenset({"cost_per_lead", "cost_per_customer", "return_on_spend"})
#: the metrics read from the spend entered by the month: "not recorded" for a month without
#: any, never compared over the same days of another month, never projected
SPEND_KEYS = SPEND_RATIOS | {"marketing_spend"}
#: the keys computed whatever the ladder
FIXED_KEYS = frozenset(m.key for m in (NEW_LEADS, *LEAD_METRICS, *CUSTOMER_METRICS))


def computed_metrics(organization: Organization) -> list[MetricDef]:
    """The computed metrics, in scorecard order, for the organization's ladder."""
    ladder = [
        s
        for s in Stage.objects.for_org(organization).order_by("position", "id")
        if s.kind != StageKind.LOST
    ]
    entered = [
        _computed(
            f"entered_{s.key}",
            f"Entered {s.name}",
            s.group,
            "count",
            f"Leads that entered {s.name} in the month (a flow count).",
        )
        for s in ladder
    ]
    conversions = [
        _computed(
            f"conversion_{a.key}_{b.key}",
            f"{a.name} → {b.name}",
            b.group,
            "percent",
            f"Of the leads that entered {a.name} in the month, the share that reached {b.name}.",
        )
        for a, b in pairwise(ladder)
    ]
    return [NEW_LEADS, *entered, *conversions, *LEAD_METRICS, *CUSTOMER_METRICS]


def manual_metric_defs(organization: Organization) -> list[MetricDef]:
    """The organization's active manual metrics, in their order."""
    return [m.definition() for m in ManualMetric.objects.for_org(organization).filter(active=True)]


def metric_catalogue(organization: Organization) -> list[MetricDef]:
    """Every metric of the organization's scorecard: computed ones, then active manual ones."""
    return [*computed_metrics(organization), *manual_metric_defs(organization)]


def metric_get(organization: Organization, key: str, field: str = "metric") -> MetricDef:
    """The metric ``key`` of the organization's catalogue; a ValidationError naming it if none."""
    for metric in metric_catalogue(organization):
        if metric.key == key:
            return metric
    raise ValidationError({field: f"There is no metric “{key}” in this organization."})
