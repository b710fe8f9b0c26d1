"""The Olist marketing funnel (real data): the funnel figures against pandas over the CSVs.

Imported with the project's importer (olist preset): each lead starts at the "lead" stage on
its first_contact_date (local midnight); each closed deal moves it to "customer" on its
won_date. So, independently of keepscore:

- a lead is observed at "lead" on its first contact, and enters the funnel at min(first
  contact, won) (some deals are dated before the first contact);
- conversion lead -> customer (a step): of the leads first observed at "lead" in the period,
  those won at or after it (a deal dated before the first contact does not count: the lead
  was not at "lead" yet);
- the overall step: of the leads that entered the funnel in the period, those won;
- sales cycle = won_date - first_contact_date in days (negative ones kept).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from keepscore.accounts.models import Organization
from keepscore.common.periods import Period
from keepscore.funnel.groupings import Segment
from keepscore.funnel.selectors import conversion, funnel, money, new_leads, sales_cycle
from keepscore.imports.deals import import_deals
from keepscore.imports.services import import_leads
from tests.imports.conftest import olist_dir

pytestmark = pytest.mark.django_db

LEADS = "olist_marketing_qualified_leads_dataset.csv"
DEALS = "olist_closed_deals_dataset.csv"
ALL_OF_IT = Period(date(2017, 1, 1), date(2018, 12, 31))


def frames() -> pd.DataFrame:
    """One row per lead: origin, first contact, won (NaT when never won), reach, cycle."""
    leads = pd.read_csv(olist_dir() / LEADS, dtype=str, keep_default_na=False)
    deals = pd.read_csv(olist_dir() / DEALS, dtype=str, keep_default_na=False)
    leads["origin"] = leads["origin"].replace("", "unknown")
    leads["first"] = pd.to_datetime(leads["first_contact_date"], format="%d-%m-%Y")
    deals["won"] = pd.to_datetime(deals["won_date"], format="%d-%m-%Y %H:%M")
    df = leads.merge(deals[["mql_id", "won"]], on="mql_id", how="left", validate="one_to_one")
    df["reach"] = df[["first", "won"]].min(axis=1)
    df["cycle"] = (df["won"] - df["first"]).dt.total_seconds() / 86400
    return df


def test_olist_figures_match_pandas(org_a: Organization) -> None:
    df = frames()
    assert len(df) == 8000 and df["won"].notna().sum() == 842
    leads = import_leads(organization=org_a, path=olist_dir() / LEADS, preset="olist")
    deals = import_deals(organization=org_a, path=olist_dir() / DEALS, preset="olist")
    assert not leads.failed and not deals.failed, (leads.problems, deals.errors[:3])

    # conversion lead -> customer per channel (origin), over all of it
    df["won_after"] = df["won"].notna() & (df["won"] >= df["first"])
    per_origin = df.groupby("origin").agg(
        n=("mql_id", "size"), k=("won", "count"), k_after=("won_after", "sum")
    )
    assert per_origin["n"].sum() == 8000
    assert per_origin["k"].sum() - per_origin["k_after"].sum() > 0  # deals before contact
    for origin, row in per_origin.iterrows():
        figure = conversion(
            organization=org_a,
            from_stage="lead",
            to_stage="customer",
            period=ALL_OF_IT,
            segment=Segment("channel", origin),
        ).rate
        assert (figure.k, figure.n) == (row["k_after"], row["n"]), origin
    by_channel = funnel(organization=org_a, period=ALL_OF_IT, by="channel")
    assert {g.key for g in by_channel.groups} == set(per_origin.index)
    for group in by_channel.groups:
        # the overall step: every lead that entered the funnel (all of them here), won ever
        (overall,) = (c for c in group.conversions if c.overall)
        assert (overall.from_key, overall.to_key) == ("suspect", "customer")
        assert (overall.rate.k, overall.rate.n) == tuple(per_origin.loc[group.key, ["k", "n"]])
        # no Olist lead is observed at suspect: that step judges no one (not 100%)
        first_step = group.conversions[0]
        assert (first_step.from_key, first_step.rate.n) == ("suspect", 0)
        suspect = next(s for s in group.stages if s.key == "suspect")
        assert suspect.skipped == suspect.reached  # every lead came in past it

    # month cohorts (first observed at "lead": the first contact), won within 90 days after
    df["cohort"] = df["first"].dt.to_period("M")
    delay = df["won"] - df["first"]
    df["in_90"] = df["won_after"] & (delay <= pd.Timedelta(days=90))
    cohorts = df.groupby("cohort").agg(n=("mql_id", "size"), k=("in_90", "sum"))
    for month, row in cohorts.iterrows():
        period = Period.month(date(month.year, month.month, 1))
        figure = conversion(
            organization=org_a,
            from_stage="lead",
            to_stage="customer",
            period=period,
            within_days=90,
        ).rate
        assert (figure.k, figure.n) == (row["k"], row["n"]), month

    # the sales cycle: median and 80th percentile of won - first contact, in days
    cycles = df["cycle"].dropna()
    cycle = sales_cycle(organization=org_a, period=ALL_OF_IT)
    assert cycle.count == len(cycles) == 842
    assert cycle.median_days == pytest.approx(cycles.median(), rel=1e-12)
    assert cycle.p80_days == pytest.approx(cycles.quantile(0.8), rel=1e-12)
    assert cycle.days == pytest.approx(sorted(cycles))
    assert sum(count for _label, count in cycle.histogram) == 842
    for year in (2017, 2018):
        in_year = df.loc[df["won"].dt.year == year, "cycle"]
        figure = sales_cycle(organization=org_a, period=Period.year(year))
        assert figure.count == len(in_year)
        assert figure.median_days == pytest.approx(in_year.median(), rel=1e-12)
        assert figure.p80_days == pytest.approx(in_year.quantile(0.8), rel=1e-12)

    # new leads and won deals per month
    new_per_month = df.groupby(df["first"].dt.to_period("M")).size()
    won_per_month = df.groupby(df["won"].dt.to_period("M")).size()
    months = sorted(set(new_per_month.index) | set(won_per_month.index))
    assert len(months) >= 12
    for month in months:
        period = Period.month(date(month.year, month.month, 1))
        assert new_leads(organization=org_a, period=period) == new_per_month.get(month, 0), month
        assert money(organization=org_a, period=period).won == won_per_month.get(month, 0), month
        assert sales_cycle(organization=org_a, period=period).count == won_per_month.get(
            month, 0
        ), month
