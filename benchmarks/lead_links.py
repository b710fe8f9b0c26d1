"""The lead lists the reports' counts link to, at scale: each list's page timed as a person
opens it, and its count checked against the figure that links to it. Not a test.

    .venv/bin/python benchmarks/lead_links.py [SIZE]              (default: 100000)
    bash scripts/with-postgres.sh .venv/bin/python benchmarks/lead_links.py 100000
    .venv/bin/python benchmarks/lead_links.py 1000000 --again /tmp/keepscore-lead-links-…

For each size, the synthetic organization of ``benchmarks/scale.py`` (``scale_data.build``:
N leads over three years to 2026-10-31, with their stage changes, outcomes and activities)
in a new database, then for October 2026 ``GET /o/<slug>/leads/?…`` (median of 5 after a
warm-up) for each filter a report's count links to:

- ``won``: the scorecard's and the dashboard's customers (the last outcome in the month
  is a win), against ``scorecard_for``'s customers;
- ``first_won``: the economics' customers (first won in the month), against
  ``channel_economics``' total;
- ``reached``: the economics' qualified leads and the funnel's reached (first reached the
  stage in the month), against ``funnel``'s all-leads count;
- ``entered``: the funnel's and the scorecard's entries into the stage, against
  ``funnel``'s all-leads count.

Each run leaves its SQLite database in its KEEPSCORE_HOME (``/tmp/keepscore-lead-links-…``);
``--again HOME`` times the organization built there again, migrated to the current code,
without building it anew (a million leads take about 18 minutes to build).

Prints a table and writes ``benchmarks/lead_links.json`` (merged by database and size).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "lead_links.json"
MONTH = date(2026, 10, 1)
END = date(2026, 10, 31)


def timed_get(client: Any, url: str, runs: int = 5) -> tuple[float, int]:
    """The median seconds of ``runs`` GETs after a warm-up, and the list's count."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
    found = re.search(r"([\d,]+) leads? found", response.content.decode())
    assert found, url
    return statistics.median(times), int(found.group(1).replace(",", ""))


def run(size: int, again: Path | None = None) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from bench_django import bench_organization, django_ready

    # --again: the organization an earlier run built there, migrated to this code
    django_ready("keepscore-lead-links-", None if again is None else str(again))
    import scale_data as data
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from keepscore.accounts.models import Organization
    from keepscore.common.periods import Period
    from keepscore.economics.channels import channel_economics
    from keepscore.funnel.selectors import funnel
    from keepscore.leads.links import leads_url
    from keepscore.leads.models import Stage
    from keepscore.scorecard.compute import scorecard_for

    settings.ALLOWED_HOSTS = ["testserver"]
    if again is None:
        organization, owner = bench_organization(f"Links {size}", f"links-{size}")
        built = data.build(organization, size, Path(settings.KEEPSCORE_HOME), print)
        print(f"built {built.leads:,} leads in {built.build_s:.0f} s on {connection.vendor}")
    else:
        organization = Organization.objects.get(slug=f"links-{size}")
        owner = organization.memberships.get(is_owner=True)
        print(f"the organization kept in {again}, on {connection.vendor}")
    client = Client()
    client.force_login(owner.user)

    period = Period(MONTH, END)
    economics = channel_economics(organization, period)
    qualified = Stage.objects.get(organization=organization, key=economics.qualified_stage)
    everyone = funnel(organization=organization, period=period).groups[0]
    at_stage = {s.key: s for s in everyone.stages}[qualified.key]
    card = {r.key: r for r in scorecard_for(organization, MONTH, today=END).rows}
    lists = {
        "won": (
            {"closed_won_from": MONTH, "closed_won_to": END},
            card["customers"].value,
        ),
        "first_won": ({"won_from": MONTH, "won_to": END}, economics.total.customers),
        "reached": (
            {"reached": qualified.pk, "reached_from": MONTH, "reached_to": END},
            at_stage.reached,
        ),
        "entered": (
            {"entered": qualified.pk, "entered_from": MONTH, "entered_to": END},
            at_stage.entered,
        ),
    }
    out: dict[str, Any] = {}
    for name, (filters, figure) in lists.items():
        seconds, count = timed_get(client, leads_url(organization, **filters))
        match = "MATCH" if count == figure else f"DIFFER ({count} listed, {figure} counted)"
        out[name] = {"seconds": round(seconds, 4), "leads": count, "check": match}
        print(f"{name:10s} {seconds * 1000:8.1f} ms  {count:>8,} leads  {match}")
    return {"database": connection.vendor, "size": size, "lists": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", nargs="?", type=int, default=100_000, help="number of leads")
    parser.add_argument(
        "--again",
        type=Path,
        metavar="HOME",
        help="time again the organization of SIZE leads an earlier run built in the "
        "KEEPSCORE_HOME HOME (SQLite), migrated to this code, without building one",
    )
    args = parser.parse_args()
    result = run(args.size, args.again)
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    saved.setdefault(result["database"], {})[str(result["size"])] = result["lists"]
    RESULTS.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
