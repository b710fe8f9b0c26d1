"""A CRM's opportunities export, imported as it is (issue 13's done-when test).

The file: id, agent, product, account, stage (Prospecting, Engaging, Won, Lost), engage
date, close date, close value; dates ``DD-MM-YY`` (two-digit years). One close date column
holds the won date of won rows and the lost date of lost rows; there is no source column;
lost rows have no reason; open rows at Prospecting have no dates at all; some rows have no
account. Only ``--map``, ``--stage-map``, ``--default`` and ``--date-format`` are given: the
dateless rows get their first contact from ``--default created=…`` (the date of the export,
a choice the person makes, not one the import makes silently), the rows without an account
the company ``--default company=…``.

Each lead is checked against the file read again with the csv module.
"""

from __future__ import annotations

import csv
import json
import random
import zoneinfo
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import typer
from django.conf import settings
from typer.testing import CliRunner

from keepscore.accounts.models import Organization
from keepscore.cli.funnel import funnel
from keepscore.leads.models import DealOutcome, Lead, StageChange
from tests.imports.test_cli import invoke

HEADER = [
    "opportunity_id",
    "sales_agent",
    "product",
    "account",
    "deal_stage",
    "engage_date",
    "close_date",
    "close_value",
]
AGENTS = ["Moses Frase", "Darcel Schlecht", "Zane Levy", "Anna Snelling", "Vicki Laflamme"]
PRODUCTS = ["GTX Basic", "GTX Pro", "MG Special", "MG Advanced", "GTK 500"]
ACCOUNTS = ["Acme Corp", "Betasoloin", "Cancity", "Codehow", "Dalttechnology", "Fasehatice"]
STAGES = {"Prospecting": "prospect", "Engaging": "lead", "Won": "customer", "Lost": "lost"}
EXPORTED = date(2017, 12, 31)  # the export's date: the first contact of the dateless rows
ROWS = 200
NO_ACCOUNT = "No account"  # the company (so the name) of the rows without an account


def crm_file(path: Path, seed: int = 1316) -> Path:
    rng = random.Random(seed)
    start = date(2016, 10, 20)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(ROWS):
            stage = rng.choices(list(STAGES), weights=[10, 25, 40, 25])[0]
            engaged = start + timedelta(days=rng.randrange(0, 300))
            closed = engaged + timedelta(days=rng.randrange(0, 120))
            row = [
                f"{rng.randrange(16**7):07X}{i:03d}",
                rng.choice(AGENTS),
                rng.choice(PRODUCTS),
                rng.choice(ACCOUNTS) if rng.random() < 0.9 else "",
                stage,
                "" if stage == "Prospecting" else engaged.strftime("%d-%m-%y"),
                closed.strftime("%d-%m-%y") if stage in ("Won", "Lost") else "",
                str(rng.randrange(40, 30000))
                if stage == "Won"
                else ("0" if stage == "Lost" else ""),
            ]
            writer.writerow(row)
    return path


OPTIONS = [
    "--map",
    "opportunity_id=external_id",
    "--map",
    "sales_agent=owner",
    "--map",
    "product=fact:product",
    "--map",
    "account=Company",
    "--map",
    "engage_date=created,lead_at",
    "--map",
    "close_date=Close date",
    "--map",
    "close_value=revenue",
    "--stage-map",
    ",".join(f"{name}={key}" for name, key in STAGES.items()),
    "--default",
    "source=Sales team",
    "--default",
    "Lost reason=Not recorded",
    "--default",
    f"created={EXPORTED.isoformat()}",
    "--default",
    f"company={NO_ACCOUNT}",
    "--date-format",
    "DD-MM-YY",
]


def _midnight(text: str) -> datetime:
    day = datetime.strptime(text, "%d-%m-%y").date()
    return datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def test_the_crm_opportunities_file_imports_as_it_is(org_a: Organization, tmp_path: Path) -> None:
    path = crm_file(tmp_path / "sales_pipeline.csv")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == ROWS
    assert {r["deal_stage"] for r in rows} == set(STAGES)

    result = invoke("leads", str(path), "--org", "acme", *OPTIONS)

    assert result.exit_code == 0, result.output
    assert f"Imported {ROWS} leads (0 duplicates, 0 rejected)." in result.stdout
    leads = {
        lead.external_id: lead
        for lead in Lead.objects.for_org(org_a).select_related("stage", "owner__user", "channel")
    }
    assert len(leads) == ROWS
    outcomes = {
        o.lead_id: o for o in DealOutcome.objects.for_org(org_a).select_related("lost_reason")
    }
    counts = Counter(o.result for o in outcomes.values())
    assert counts["won"] == sum(r["deal_stage"] == "Won" for r in rows)
    assert counts["lost"] == sum(r["deal_stage"] == "Lost" for r in rows)
    assert len(outcomes) == counts["won"] + counts["lost"]  # one outcome a deal at most
    default_touch = datetime.combine(
        EXPORTED, datetime.min.time(), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )
    changes: dict[int, list[tuple[str, datetime]]] = {}
    for change in (
        StageChange.objects.for_org(org_a).order_by("at", "id").select_related("to_stage")
    ):
        changes.setdefault(change.lead_id, []).append((change.to_stage.key, change.at))
    for row in rows:
        lead = leads[row["opportunity_id"]]
        stage = row["deal_stage"]
        assert lead.stage.key == STAGES[stage], row
        assert lead.channel.name == "Sales team"
        assert lead.owner is not None and lead.owner.user.get_full_name() == row["sales_agent"]
        assert lead.company == (row["account"] or NO_ACCOUNT)
        assert lead.name == lead.company
        assert lead.facts == {"product": row["product"]}
        outcome = outcomes.get(lead.pk)
        if stage == "Prospecting":
            assert lead.first_touch_at == default_touch
            assert changes[lead.pk] == [("prospect", default_touch)]
            assert outcome is None
            continue
        engaged = _midnight(row["engage_date"])
        assert lead.first_touch_at == engaged
        if stage == "Engaging":
            assert changes[lead.pk] == [("lead", engaged)]
            assert lead.stage_entered_at == engaged
            assert outcome is None
            continue
        closed = _midnight(row["close_date"])
        assert changes[lead.pk] == [("lead", engaged), (STAGES[stage], closed)]
        assert lead.stage_entered_at == closed
        assert outcome is not None and outcome.at == closed
        if stage == "Won":
            assert outcome.result == "won"
            assert outcome.revenue == Decimal(row["close_value"])
        else:
            assert outcome.result == "lost"
            assert outcome.revenue is None
            assert outcome.lost_reason is not None
            assert outcome.lost_reason.name == "Not recorded"


def test_the_crm_files_facts_group_the_funnel(org_a: Organization, tmp_path: Path) -> None:
    path = crm_file(tmp_path / "sales_pipeline.csv")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert invoke("leads", str(path), "--org", "acme", *OPTIONS).exit_code == 0

    app = typer.Typer()
    app.command("funnel")(funnel)
    app.callback()(lambda: None)
    report = CliRunner().invoke(
        app,
        [
            "funnel",
            "--org",
            "acme",
            "--from",
            "2016-01-01",
            "--to",
            "2017-12-31",
            "--by",
            "fact:product",
            "--format",
            "json",
        ],
    )

    assert report.exit_code == 0, report.output
    groups = {g["key"]: g for g in json.loads(report.stdout)["groups"]}
    assert set(groups) == set(PRODUCTS) & {r["product"] for r in rows}
    for product, group in groups.items():
        mine = [r for r in rows if r["product"] == product]
        overall = group["conversions"][-1]
        assert overall["to"] == "customer"
        assert overall["n"] == len(mine), product
        assert overall["k"] == sum(r["deal_stage"] == "Won" for r in mine), product
