"""Backtest of the pace's year-end projection, on the demo and on the Olist data. Not a test.

    .venv/bin/python benchmarks/backtest.py [--months 60] [--seed 42]

In a fresh SQLite database under a temporary KEEPSCORE_HOME:

1. the demo organization (``keepscore demo``) with ``--months`` of history ending on
   :data:`TODAY` (fixed, so the figures do not move from run to run);
2. the Olist marketing funnel (``shared/datasets/olist-marketing-funnel``: 8,000 leads,
   842 deals) through ``import leads`` and ``import deals``;

then ``keepscore.scorecard.backtest.backtest`` on each: at the end of every month of every
whole year, the year end of customers, revenue and new leads projected as known then,
against what the year came to; and ``keepscore.plan.backtest.plan_backtest``: the plan's
80% range of customers at every month end, 3 and 6 months ahead, and its verdicts on each
whole year against December's (under ``plan`` in each organization). Prints tables and
writes ``benchmarks/backtest.json``.

The Olist data is not a business's whole history: its leads file stops at the end of May
2018 (the deals of those leads go on to November), so 2018's second half has no new leads
and fewer and fewer wins. A projection that assumes the business goes on overshoots there;
its figures are reported, not held to the demo's limits (the test suite holds those).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "backtest.json"
TODAY = date(2026, 11, 30)


def olist_dir() -> Path:
    roots = [Path(os.environ["KEEPSCORE_SHARED"])] if os.environ.get("KEEPSCORE_SHARED") else []
    roots += [parent / "shared" for parent in HERE.parents]
    for root in roots:
        candidate = root / "datasets" / "olist-marketing-funnel"
        if candidate.is_dir():
            return candidate
    raise SystemExit("the shared Olist data set is not beside the repository (KEEPSCORE_SHARED)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    os.environ["KEEPSCORE_HOME"] = tempfile.mkdtemp(prefix="keepscore-backtest-")
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "keepscore.config.settings"
    sys.path.insert(0, str(HERE.parent / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from keepscore.accounts.models import Organization
    from keepscore.accounts.services import organization_create, user_create
    from keepscore.demo.generator import demo_create
    from keepscore.imports.deals import import_deals
    from keepscore.imports.services import import_leads
    from keepscore.plan.backtest import plan_backtest
    from keepscore.scorecard.backtest import backtest

    results: dict[str, Any] = {"today": TODAY.isoformat(), "organizations": {}}
    t0 = time.perf_counter()
    made = demo_create(seed=args.seed, slug="demo", months=args.months, today=TODAY)
    print(
        f"demo: {made.leads:,} leads over {args.months} months ({time.perf_counter() - t0:.1f} s)"
    )
    owner = user_create(email="owner@olist.test", password=None, can_login=False)
    olist = organization_create(name="Olist", slug="olist", owner=owner)
    folder = olist_dir()
    leads = import_leads(
        organization=olist,
        path=folder / "olist_marketing_qualified_leads_dataset.csv",
        preset="olist",
    )
    deals = import_deals(
        organization=olist, path=folder / "olist_closed_deals_dataset.csv", preset="olist"
    )
    if leads.failed or deals.failed:
        raise SystemExit(f"the Olist import failed: {leads.problems} {deals.problems}")
    print(f"olist: {leads.created:,} leads, {deals.created:,} deals")
    for slug in ("demo", "olist"):
        organization = Organization.objects.get(slug=slug)
        report = backtest(organization, today=TODAY)
        results["organizations"][slug] = report.as_dict()
        print(f"\n{slug}: years {', '.join(map(str, report.years)) or 'none'}")
        print(f"  {'metric':<10} {'points':>6} {'median':>8} {'at 11 m':>8} {'95% cov.':>8}")
        for r in report.results:
            print(
                f"  {r.metric:<10} {len(r.points):>6} {_pct(r.median_error):>8} "
                f"{_pct(r.median_error_late):>8} {_pct(r.coverage):>8}"
            )
        t0 = time.perf_counter()
        planned = plan_backtest(organization, today=TODAY)
        results["organizations"][slug]["plan"] = planned.as_dict()
        took = time.perf_counter() - t0
        print(f"  the plan ({took:.1f} s): {planned.skipped} origins without a plan")
        heads = ("80% cov.", "median", "need/got", "inv cov")
        print(f"  {'ahead':<10} {'points':>6} " + " ".join(f"{h:>8}" for h in heads))
        for h in planned.horizons:
            print(
                f"  {h.horizon:<10} {len(h.points):>6} {_pct(h.coverage):>8} "
                f"{_pct(h.median_error):>8} {_num(h.median_ratio):>8} {_pct(h.needed_coverage):>8}"
            )
        same, n = planned.verdicts.agreement()
        print(
            f"  verdicts: {len(planned.verdicts.years)} plans, months 3-9 agree with December "
            f"{same} of {n}"
        )
        for kind, (a, k) in planned.verdicts.by_kind().items():
            print(f"    {kind:<10} {a} of {k}")
        behind, n = planned.verdicts.behind_agreement()
        confirmed, given = planned.verdicts.behind_confirmed()
        changed, steps = planned.verdicts.changes()
        print(
            f"  behind or not as December: {behind} of {n}; early 'behind' still behind in "
            f"December: {confirmed} of {given}; month-to-month changes: {changed} of {steps}"
        )
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {OUT.relative_to(HERE.parent)}")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    main()
