"""Channel economics as a CSV file: a row per channel, then the total (the page's download
and the command line's ``--format csv``)."""

from __future__ import annotations

import csv
import io
from typing import Any

from keepscore.economics.channels import ChannelEconomics
from keepscore.exports.writers import escape_formula

CSV_COLUMNS = (
    "period_from",
    "period_to",
    "channel_key",
    "channel",
    "spend",
    "leads",
    "qualified",
    "customers",
    "conversion_k",
    "conversion_n",
    "conversion_rate",
    "conversion_ci_low",
    "conversion_ci_high",
    "revenue",
    "cost",
    "costed_deals",
    "margin",
    "margin_pct",
    "cost_per_lead",
    "cost_per_customer",
    "return_on_spend",
    "payback_months",
    "too_small",
    "too_small_reason",
)


def channels_csv(result: ChannelEconomics) -> str:
    """The table as CSV: a row per channel, then the total (channel_key "total"). Undefined
    figures are empty cells; money has two decimals; rates are fractions."""

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return repr(value)
        return str(value)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in (*result.rows, result.total):
        c = row.conversion
        writer.writerow(
            [
                cell(v)
                for v in (
                    result.period.start.isoformat(),
                    result.period.end.isoformat(),
                    row.key,
                    escape_formula(row.name),
                    row.spend,
                    row.leads,
                    row.qualified,
                    row.customers,
                    c.k,
                    c.n,
                    c.rate,
                    c.ci_low,
                    c.ci_high,
                    row.revenue,
                    row.cost,
                    row.costed,
                    row.margin,
                    row.margin_pct,
                    row.cost_per_lead,
                    row.cost_per_customer,
                    row.return_on_spend,
                    row.payback_months,
                    row.too_small,
                    row.too_small_reason,
                )
            ]
        )
    return out.getvalue()
