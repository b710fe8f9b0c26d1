"""Scale benchmark: keepscore's figures and pages on a synthetic organization of N leads,
timed and checked against DuckDB over the same rows. Not a test.

    .venv/bin/python benchmarks/scale.py [SIZE ...]             (default: 10000 100000 1000000)
    .venv/bin/python benchmarks/scale.py 10000 --database-url postgres://…   (or DATABASE_URL)
    bash scripts/with-postgres.sh .venv/bin/python benchmarks/scale.py 10000

For each size, in a fresh database (SQLite under a temporary KEEPSCORE_HOME, or a new
database on the PostgreSQL server) and a fresh process:

1. build (fixed seed, streamed): a plain-preset CSV of N leads over the 3 years to
   2026-10-31 (10 channels, 8 owners, about 5 stage changes each, won with revenue and
   cost or lost with a reason) through ``import_leads``, then about 5 activities per lead
   through ``activities_bulk_add``, objections on about 60% of the lost leads and 15% of
   the others (the history's bulk writer), spend for five paid channels every month
   (``spend_set``), two manual metrics, three goals, a cash position, and this year's and
   next year's plans for a revenue goal;
2. export the organization's rows to Parquet (benchmarks/scale_duck.py);
3. time each operation in keepscore and in DuckDB (full scans of the Parquet files, a
   fresh connection each run) and compare their numbers (exact for counts and money,
   1e-9 for rates and days):

   - ``scorecard_month``: ``keepscore.scorecard.compute.scorecard_for`` for 2026-10
     ("not built yet" until it exists);
   - ``month_figures``: the same month from ``keepscore.funnel.selectors`` (new leads, stage
     entries, activity counts, money, close rate, sales cycle, cohort conversions) — the
     reference computation over the stored rows, without the summaries: no target;
   - ``funnel_by_channel``: ``funnel(org, Period(2025-11-01, 2026-10-31), by="channel")``;
   - ``leads_page``: ``GET /o/<slug>/leads/?channel=<id>`` (median of 5 after a warm-up);
   - ``dashboard``: ``GET /o/<slug>/`` (the same);
   - ``board``: ``GET /o/<slug>/board/`` (the same; the open columns' counts and totals are
     checked against DuckDB's);
   - the pages and reports of issue 16, each ``GET`` the same way, as the owner, and each
     as the first view after a change of the data (the data revision raised before each
     request, so no figure kept in the cache is read back): the month's scorecard page
     (``scorecard_page``, ``/scorecard/2026-10/``; and ``scorecard_page_kept``: the same page
     again with the data unchanged, its scorecard kept), the focus diagnosis today
     (``focus_page``), marketing & sales (``jobs_report``, ``/funnel/jobs/`` over the year
     above), the channel economics (``economics_page``, the year), the objections report
     (``objections_report``, the year), the activity report (``activity_report``, the year
     per month and member), next year's plan (``plan_page``) and the Today page of the member
     owning the most leads (``today_page``); and the scorecard PDF as the background worker
     makes it (``scorecard_pdf``: the scorecard computed and rendered; the page only asks
     for it). Marketing & sales, the objections and the activity report have their figures
     (from the service behind the page) checked against DuckDB's; the others have no DuckDB
     counterpart (``duckdb_s`` null).

Also timed, with no DuckDB counterpart: ``focus_today`` (the focus diagnosis, today),
``economics_year`` (the channel economics of the year), ``plan_year`` (next year's plan for
a revenue goal, with its range) and ``plan_check`` (October against this year's plan), under
``extra`` in the results (the services behind the pages above); and once,
``summaries_verify`` (``keepscore summaries verify``: the summaries the import and the bulk
activity log kept, against the history and the reference; its differences counted).

``TARGETS`` holds each operation's target in seconds (issue 16: the month's scorecard
computed in 0.1 s and its page kept in 0.1 s, the board 0.15 s, the PDF 2 s, every other page
0.5 s); ``benchmarks/chart.py`` draws the
results against the size (``docs/bench.svg``) and prints the README's table (``--table``).

``--keep`` keeps each size's files (and its PostgreSQL database, named in HOME/database_url);
``--again HOME`` times the organization of one size kept in HOME again (migrated to the
current code; spend, goals and cash, and objections, added if it had none), without building
it anew:
``benchmarks/scale.py 1000000 --again /tmp/keepscore-scale-1000000-…``.

Prints a table per size and one of how each figure grows with the size, and merges the
results into benchmarks/results.json: ``{database: {size: {"operations": {name:
{keepscore_s, duckdb_s, ratio, agree, difference}}, "data": {…}, "peak_rss_mb",
"load_average" (1, 5, 15 minutes, after the pages were timed), "build_s", "database"}}}``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
#: targets on the 2-core reference machine, in seconds: the scorecard's computation, the
#: funnel, the lead list, the dashboard and the board from the first scale issue; the pages
#: and reports of issue 16 (the month's scorecard computed 0.1 s and its page kept 0.1 s, the
#: board 0.15 s, the PDF 2 s, every other 0.5 s). month_figures has none: it is the
#: reference computation (the stored rows read one by one, no summaries), timed to show
#: what the summaries save
TARGETS = {
    "scorecard_month": 0.1,
    "funnel_by_channel": 0.5,
    "scorecard_page": 0.5,
    "scorecard_page_kept": 0.1,
    "scorecard_pdf": 2.0,
    "focus_page": 0.5,
    "jobs_report": 0.5,
    "economics_page": 0.5,
    "objections_report": 0.5,
    "activity_report": 0.5,
    "plan_page": 0.5,
    "today_page": 0.5,
    "leads_page": 0.15,
    "dashboard": 0.15,
    "board": 0.15,
}
#: computations that must also not be slower than DuckDB's full scan
VERSUS_DUCKDB = ("scorecard_month", "funnel_by_channel")
#: every operation, in the order of the tables and the chart's legend
OPERATIONS = (
    "scorecard_month",
    "month_figures",
    "funnel_by_channel",
    "scorecard_page",
    "scorecard_page_kept",
    "scorecard_pdf",
    "focus_page",
    "jobs_report",
    "economics_page",
    "objections_report",
    "activity_report",
    "plan_page",
    "today_page",
    "leads_page",
    "dashboard",
    "board",
)
#: what each operation is, for the README's table and the chart's legend
LABELS = {
    "scorecard_month": "Scorecard of a month (computation)",
    "month_figures": "Month's figures without the summaries (reference)",
    "funnel_by_channel": "Funnel by channel, a year",
    "scorecard_page": "Month's scorecard page",
    "scorecard_page_kept": "Month's scorecard page, kept",
    "scorecard_pdf": "Scorecard PDF",
    "focus_page": "Focus diagnosis, today",
    "jobs_report": "Marketing & sales, 12 months",
    "economics_page": "Channel economics, a year",
    "objections_report": "Objections report, a year",
    "activity_report": "Activity report, 12 months by member",
    "plan_page": "Plan for next year",
    "today_page": "Today page",
    "leads_page": "Lead list, one channel",
    "dashboard": "Dashboard",
    "board": "Board",
}


def say(text: str) -> None:
    print(text, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any], runs: int, warm_up: bool = False) -> tuple[float, Any]:
    """(median seconds over ``runs`` calls, the last result), after one unmeasured call."""
    if warm_up:
        fn()
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


# --- one size, in its own process ------------------------------------------------------------


def run_one(size: int, out: Path, again: bool = False) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "keepscore.config.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)

    import scale_data as data
    import scale_duck as duck
    import scale_keepscore as ks

    from keepscore.accounts.models import Membership
    from keepscore.accounts.services import organization_create, password_generate, user_create
    from keepscore.activities.models import Objection
    from keepscore.common.periods import Period
    from keepscore.leads.models import Channel
    from keepscore.leads.views import LEADS_PER_PAGE

    database = connection.vendor
    home = Path(settings.KEEPSCORE_HOME)
    say(f"== {size:,} leads on {database} ({home}); TIME_ZONE {settings.TIME_ZONE}")
    if again:
        org, owner, built = _kept(size, home)
        say(f"timing the organization kept in {home} again (migrated to this code)")
    else:
        owner = user_create(email="owner@scale.invalid", password=password_generate())
        org = organization_create(name=f"Scale {size}", slug=f"scale-{size}", owner=owner)
        built = data.build(org, size, home, say)
        say(f"built in {built.build_s:.1f} s; peak RSS so far {peak_rss_mb():.0f} MB")

    parquet = home / "parquet"
    exported = duck.export(org.pk, parquet)
    say(
        f"exported to Parquet: {exported['parquet_bytes'] / 1e6:.1f} MB in {exported['export_s']} s"
    )

    zone = settings.TIME_ZONE
    month = Period(*data.MONTH)
    year = Period(*data.YEAR)
    m_since, m_until = duck.bounds(*data.MONTH, zone)
    y_since, y_until = duck.bounds(*data.YEAR, zone)
    runs = 3 if size <= 100_000 else 1
    ops: dict[str, dict[str, Any]] = {}

    def record(name: str, ks_s: float | None, duck_s: float | None, difference: str | None) -> None:
        """``duck_s`` None: no DuckDB counterpart (``difference`` None too)."""
        ops[name] = {
            "keepscore_s": None if ks_s is None else round(ks_s, 4),
            "duckdb_s": None if duck_s is None else round(duck_s, 4),
            "ratio": None if ks_s is None or duck_s is None else round(ks_s / duck_s, 2),
            "agree": None if difference is None else not difference,
            "difference": difference,
        }
        if ks_s is None:
            verdict = difference or "not built yet"
        elif duck_s is None:
            verdict = "(no DuckDB counterpart)"
        else:
            verdict = "MATCH" if not difference else f"MISMATCH: {difference}"
        shown = "—" if ks_s is None else f"{ks_s:.3f} s"
        duck = "—" if duck_s is None else f"{duck_s:.3f} s"
        say(f"  {name:<18} keepscore {shown:>9}  DuckDB {duck:>9}  {verdict}")

    # the month: DuckDB's reference, then the scorecard (when built) and the services
    duck_s, reference = timed(lambda: duck.month_figures(parquet, m_since, m_until), runs)
    pairs = [
        tuple(name.split(".", 1)[1].split(">")) for name in reference if name.startswith("conv")
    ]
    try:
        compute = ks.scorecard_compute()
    except ks.NotBuilt as why:
        say(f"  scorecard_month: not built yet ({why})")
        ops["scorecard_month"] = {
            "keepscore_s": None,
            "duckdb_s": round(duck_s, 4),
            "ratio": None,
            "agree": None,
            "difference": "not built yet",
        }
    else:
        try:
            ks_s, card = timed(lambda: compute(org, data.MONTH[0]), runs)
            flat = ks.scorecard_flat(card, pairs)  # type: ignore[arg-type]
            record("scorecard_month", ks_s, duck_s, ks.compare(flat, reference, True))
        except Exception as error:  # the benchmark reports, it does not crash
            record("scorecard_month", None, duck_s, f"failed: {type(error).__name__}: {error}")
    ks_s, mine = timed(lambda: ks.month_figures(org, month), runs)
    record("month_figures", ks_s, duck_s, ks.compare(mine, reference))
    month_reference = {name: value for name, value in reference.items()}

    from keepscore.funnel.selectors import funnel

    duck_s, reference = timed(lambda: duck.funnel_by_channel(parquet, y_since, y_until), runs)
    ks_s, report = timed(lambda: funnel(organization=org, period=year, by="channel"), runs)
    record("funnel_by_channel", ks_s, duck_s, ks.compare(ks.funnel_flat(report), reference))

    # the pages, as the owner sees them (with this year's and next year's plans saved)
    _plans_save(org)
    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)
    channel = Channel.objects.for_org(org).get(key="website-form")

    from keepscore.scorecard.kept import data_changed

    def get(url: str, cold: bool = True) -> Any:
        """GET ``url`` as the first view after a change of the data (``cold``: the data
        revision raised first, so nothing kept under the old one is read back)."""
        if cold:
            data_changed(org.pk)
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code}")
        return response

    url = f"/o/{org.slug}/leads/?channel={channel.pk}"
    ks_s, _ = timed(lambda: get(url), 5, warm_up=True)
    duck_s, reference = timed(lambda: duck.leads_page(parquet, channel.pk, LEADS_PER_PAGE), 5)
    record(
        "leads_page",
        ks_s,
        duck_s,
        ks.compare(ks.leads_page(org, channel, LEADS_PER_PAGE), reference),
    )

    from django.utils import timezone

    local = timezone.localtime()
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start_utc = month_start.astimezone(timezone.get_fixed_timezone(0)).replace(tzinfo=None)
    ks_s, _ = timed(lambda: get(f"/o/{org.slug}/"), 5, warm_up=True)
    year_utc = (
        month_start.replace(month=1).astimezone(timezone.get_fixed_timezone(0)).replace(tzinfo=None)
    )
    duck_s, reference = timed(lambda: duck.dashboard(parquet, start_utc, year_utc), 5)
    record("dashboard", ks_s, duck_s, ks.compare(ks.dashboard(org), reference))
    ks_s, _ = timed(lambda: get(f"/o/{org.slug}/board/"), 5, warm_up=True)
    duck_s, reference = timed(lambda: duck.board(parquet), 5)
    record("board", ks_s, duck_s, ks.compare(ks.board(org), reference))

    # the pages and reports of issue 16: each page timed (median of 5 after a warm-up), its
    # figures from the service behind it compared with DuckDB's where DuckDB has them
    _issue16_pages(org, get, record, parquet, zone)

    # how busy the machine was while the pages were timed (1, 5 and 15 minutes; 2 cores)
    load_average = [round(x, 2) for x in os.getloadavg()]

    # no DuckDB counterpart: keepscore's time only (the pages' data, as the app computes it)
    extra: dict[str, Any] = {}
    for name, fn in _extra_operations(org, year).items():
        try:
            extra_s, _ = timed(fn, runs, warm_up=True)
        except Exception as error:  # the benchmark reports, it does not crash
            extra[name] = {"keepscore_s": None, "error": f"{type(error).__name__}: {error}"}
            say(f"  {name:<18} failed: {type(error).__name__}: {error}")
        else:
            extra[name] = {"keepscore_s": round(extra_s, 4)}
            say(f"  {name:<18} keepscore {extra_s:.3f} s  (no DuckDB counterpart)")

    # the summaries kept by the recorder against the history (keepscore summaries verify)
    from keepscore.history import recorder

    verify_s, found = timed(lambda: recorder.verify(organization=org), 1)
    extra["summaries_verify"] = {"keepscore_s": round(verify_s, 1), "differences": len(found)}
    say(f"  {'summaries_verify':<18} {len(found)} differences in {verify_s:.1f} s")
    for difference in found[:10]:
        say(f"    {difference}")

    db_bytes = _database_bytes(connection, home)
    result = {
        "size": size,
        "database": database,
        "operations": ops,
        "extra": extra,
        "data": {
            "leads": built.leads,
            "stage_changes": built.stage_changes,
            "outcomes": built.outcomes,
            "activities": built.activities,
            "objections": Objection.objects.filter(organization=org).count(),
            "members": Membership.objects.filter(organization=org).count(),
            "db_bytes": db_bytes,
            "parquet_bytes": exported["parquet_bytes"],
            "csv_bytes": built.csv_bytes,
        },
        "build_s": round(built.build_s, 1),
        "import_s": round(built.import_s, 1),
        "activities_s": round(built.activities_s, 1),
        "export_s": exported["export_s"],
        "peak_rss_mb": round(peak_rss_mb()),
        "load_average": load_average,
        "runs": runs,
        "month": {"period": [str(d) for d in data.MONTH], "duckdb": month_reference},
    }
    out.write_text(json.dumps(result, indent=2, default=str))


def _kept(size: int, home: Path) -> tuple[Any, Any, Any]:
    """The organization an earlier run built and kept (``--keep``), with the spend, goals and
    cash, and objections added when that run's code had none; its build figures from the
    earlier result when there."""
    import scale_data as data

    from keepscore.accounts.models import Organization
    from keepscore.activities.models import Activity, Objection
    from keepscore.economics.models import CashPosition, Spend
    from keepscore.followups.models import FollowUp
    from keepscore.leads.models import DealOutcome, Lead, StageChange

    org = Organization.objects.get(slug=f"scale-{size}")
    owner = org.memberships.get(is_owner=True).user
    if not Spend.objects.filter(organization=org).exists():
        data.spend_add(org, say)
    if not CashPosition.objects.filter(organization=org).exists():
        data.owner_setup_add(org, say)
    if not Objection.objects.filter(organization=org).exists():
        data.objections_add(org, say)
    if not FollowUp.objects.filter(organization=org).exists():
        data.followups_add(org, say)
    earlier = home / "result.json"
    before = json.loads(earlier.read_text()) if earlier.exists() else {}
    built = data.Built(
        leads=Lead.objects.filter(organization=org).count(),
        stage_changes=StageChange.objects.filter(organization=org).count(),
        outcomes=DealOutcome.objects.filter(organization=org).count(),
        activities=Activity.objects.filter(organization=org).count(),
        csv_bytes=before.get("data", {}).get("csv_bytes", 0),
        import_s=before.get("import_s", 0.0),
        activities_s=before.get("activities_s", 0.0),
        build_s=before.get("build_s", 0.0),
    )
    return org, owner, built


def _plans_save(org: Any) -> None:
    """This year's and next year's plans for a revenue goal (the scorecard checks October
    against this year's; the plan page shows next year's)."""
    import scale_data as data

    from keepscore.plan.services import plan_save

    month = data.MONTH[0]
    for year in (month.year, month.year + 1):
        plan_save(
            organization=org,
            year=year,
            goal_kind="revenue",
            goal_amount=5_000_000,
            overrides={},
            by=None,
        )


def _issue16_pages(
    org: Any,
    get: Callable[..., Any],
    record: Callable[[str, float | None, float | None, str | None], None],
    parquet: Path,
    zone: str,
) -> None:
    """The month's scorecard page and its PDF (as the worker makes it), the focus diagnosis
    (today), marketing & sales and the activity report (12 months), the channel economics and
    the objections report (a year), next year's plan and a salesperson's Today page."""
    import scale_data as data
    import scale_duck as duck
    import scale_keepscore as ks
    from django.db import models
    from django.utils import timezone

    from keepscore.accounts.models import Membership
    from keepscore.common.days import entered_before
    from keepscore.common.periods import Period
    from keepscore.followups.today import ROWS
    from keepscore.leads.late import STALL_DAYS
    from keepscore.leads.models import Lead

    base = f"/o/{org.slug}"
    first, last = data.YEAR
    year_query = f"from={first.isoformat()}&to={last.isoformat()}"
    year = Period(first, last)
    months = duck.months_of(first, last, zone)
    since, until = duck.bounds(first, last, zone)
    month = data.MONTH[0]

    def page(name: str, url: str) -> float | None:
        try:
            ks_s, _ = timed(lambda: get(url), 5, warm_up=True)
        except (Exception, SystemExit) as error:  # the benchmark reports, it does not crash
            record(name, None, None, f"failed: {type(error).__name__}: {error}")
            return None
        return ks_s

    def checked(name: str, url: str, mine: Callable[[], Any], theirs: Callable[[], Any]) -> None:
        ks_s = page(name, url)
        if ks_s is None:
            return
        duck_s, reference = timed(theirs, 5)
        record(name, ks_s, duck_s, ks.compare(mine(), reference))

    def alone(name: str, url: str) -> None:
        ks_s = page(name, url)
        if ks_s is not None:
            record(name, ks_s, None, None)

    alone("scorecard_page", f"{base}/scorecard/{month:%Y-%m}/")
    # the same page again, the data unchanged: the scorecard kept under the data revision
    scorecard_url = f"{base}/scorecard/{month:%Y-%m}/"
    ks_s, _ = timed(lambda: get(scorecard_url, cold=False), 5, warm_up=True)
    record("scorecard_page_kept", ks_s, None, None)
    pdf(org, record)
    alone("focus_page", f"{base}/focus/")
    checked(
        "jobs_report",
        f"{base}/funnel/jobs/?{year_query}",
        lambda: ks.jobs_report(org, year),
        lambda: duck.jobs_report(parquet, months),
    )
    alone("economics_page", f"{base}/economics/?{year_query}")
    checked(
        "objections_report",
        f"{base}/funnel/objections/?{year_query}",
        lambda: ks.objections_report(org, year),
        lambda: duck.objections_report(parquet, since, until, months),
    )
    checked(
        "activity_report",
        f"{base}/funnel/activity/?{year_query}&grain=month&by=member",
        lambda: ks.activity_report(org, year),
        lambda: duck.activity_report(parquet, months),
    )
    alone("plan_page", f"{base}/plan/?year={month.year + 1}")
    # the Today page of the member owning the most leads (the owner's own day is empty)
    busiest = (
        Lead.objects.for_org(org)
        .exclude(owner=None)
        .values("owner")
        .order_by()
        .annotate(n=models.Count("pk"))
        .order_by("-n", "owner")
        .values_list("owner", flat=True)
        .first()
    )
    member = Membership.objects.get(organization=org, pk=busiest)
    now = timezone.localtime()
    stalled_before = entered_before(STALL_DAYS, now.date()).astimezone(UTC).replace(tzinfo=None)
    checked(
        "today_page",
        f"{base}/today/?member={member.pk}",
        lambda: ks.today(org, member, now),
        lambda: duck.today(parquet, member.pk, now.date(), now.time(), stalled_before, ROWS),
    )


def pdf(org: Any, record: Callable[[str, float | None, float | None, str | None], None]) -> None:
    """The month's scorecard PDF as the background worker makes it (the page only asks for
    it): the scorecard computed, then rendered (median of 5 after a warm-up)."""
    import scale_data as data

    from keepscore.reports.month import month_pdf
    from keepscore.scorecard.compute import scorecard_for

    def render() -> bytes:
        return month_pdf(org, scorecard_for(org, data.MONTH[0]))

    try:
        pdf_s, body = timed(render, 5, warm_up=True)
    except Exception as error:  # no PDF library, say: the benchmark reports it
        record("scorecard_pdf", None, None, f"failed: {type(error).__name__}: {error}")
        return
    if not body.startswith(b"%PDF"):
        record("scorecard_pdf", None, None, "failed: not a PDF")
        return
    record("scorecard_pdf", pdf_s, None, None)


def _extra_operations(org: Any, year: Any) -> dict[str, Callable[[], Any]]:
    """The focus diagnosis (today: the summaries), the channel economics of the year, and
    the next year's plan for a revenue goal: measured, with its 2,000-draw range
    (``plan_year``), and the scorecard's check of the year against it (``plan_check``)."""
    import scale_data as data

    from keepscore.economics.channels import channel_economics
    from keepscore.focus.selectors import diagnose
    from keepscore.plan.check import plan_check
    from keepscore.plan.selectors import plan_report

    month = data.MONTH[0]
    return {
        "focus_today": lambda: diagnose(org),
        "economics_year": lambda: channel_economics(org, year),
        "plan_year": lambda: plan_report(organization=org, year=month.year + 1),
        "plan_check": lambda: plan_check(org, month),
    }


def _database_bytes(connection: Any, home: Path) -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in home.glob("keepscore.sqlite3*"))


# --- the driver: one process and one fresh database per size ---------------------------------


def _postgres_database(url: str, name: str, create: bool) -> str:
    """Create (or drop) database ``name`` on the server of ``url``; the URL to it."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        if create:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def run_size(size: int, database_url: str, keep: bool) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix=f"keepscore-scale-{size}-"))
    env = {**os.environ, "KEEPSCORE_HOME": str(home), "PYTHONPATH": _pythonpath()}
    env.setdefault("TIME_ZONE", "UTC")
    name = f"keepscore_scale_{size}_{os.getpid()}"
    env["DATABASE_URL"] = _postgres_database(database_url, name, True) if database_url else ""
    if env["DATABASE_URL"] and keep:
        (home / "database_url").write_text(env["DATABASE_URL"] + "\n")
    out = home / "result.json"
    try:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--one", str(size), "--out", str(out)],
            env=env,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"size {size} failed (exit {done.returncode}); files kept in {home}")
        return json.loads(out.read_text())  # type: ignore[no-any-return]
    finally:
        if database_url and not keep:
            _postgres_database(database_url, name, False)
        if not keep and (home / "result.json").exists():
            shutil.rmtree(home, ignore_errors=True)


def run_again(size: int, home: Path) -> dict[str, Any]:
    env = {**os.environ, "KEEPSCORE_HOME": str(home), "PYTHONPATH": _pythonpath()}
    env.setdefault("TIME_ZONE", "UTC")
    kept_url = home / "database_url"  # a PostgreSQL database kept by --keep
    url = kept_url.read_text().strip() if kept_url.exists() else ""
    env.update(DATABASE_URL=url, KEEPSCORE_SCALE_AGAIN="1")
    out = home / "result-again.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(size), "--out", str(out)]
    done = subprocess.run(cmd, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"size {size} failed (exit {done.returncode})")
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def _pythonpath() -> str:
    paths = [str(HERE)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return os.pathsep.join(paths)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def table_size(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    d = result["data"]
    title = (
        f"{result['size']:,} leads on {result['database']}: {d['stage_changes']:,} stage changes, "
        f"{d['activities']:,} activities; build {result['build_s']} s, "
        f"database {d['db_bytes'] / 1e6:.0f} MB, Parquet {d['parquet_bytes'] / 1e6:.0f} MB, "
        f"peak RSS {result['peak_rss_mb']} MB; load average {result.get('load_average', '?')}"
    )
    table = Table(title=title, title_justify="left")
    for column in ("operation", "keepscore s", "DuckDB s", "ratio", "agree?", "target"):
        table.add_column(column, justify="left" if column in ("operation", "agree?") else "right")
    for name, op in result["operations"].items():
        if op["agree"] is None:
            agree = op["difference"] or "—"
        else:
            agree = "MATCH" if op["agree"] else "MISMATCH"
        table.add_row(
            name,
            _seconds(op["keepscore_s"]),
            _seconds(op["duckdb_s"]),
            "—" if op["ratio"] is None else f"{op['ratio']:.1f}x",
            agree,
            _target(name, op),
        )
    Console(width=200).print(table)
    for name, op in result["operations"].items():
        if op["agree"] is False:
            print(f"  {name}: first difference: {op['difference']}")


def _target(name: str, op: dict[str, Any]) -> str:
    limit = TARGETS.get(name)
    if limit is None:
        return "reference, no target"
    if op["keepscore_s"] is None:
        return f"< {limit} s"
    ok = op["keepscore_s"] < limit
    if name in VERSUS_DUCKDB:
        ok = ok and op["keepscore_s"] <= op["duckdb_s"]
        return f"{'met' if ok else 'MISSED'} (< {limit} s, ≤ DuckDB)"
    return f"{'met' if ok else 'MISSED'} (< {limit * 1000:.0f} ms)"


def table_growth(database: str, sizes: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    ordered = sorted(sizes.values(), key=lambda r: r["size"])
    table = Table(title=f"How each figure grows ({database}; keepscore s / DuckDB s)")
    table.add_column("operation")
    for r in ordered:
        table.add_column(f"{r['size']:,}", justify="right")
    for name in OPERATIONS:
        cells = []
        for r in ordered:
            op = r["operations"].get(name)
            if op is None:
                cells.append("")
            else:
                cells.append(f"{_seconds(op['keepscore_s'])} / {_seconds(op['duckdb_s'])}")
        table.add_row(name, *cells)
    for label, get in (
        ("build s", lambda r: f"{r['build_s']}"),
        ("peak RSS MB", lambda r: f"{r['peak_rss_mb']}"),
        ("database MB", lambda r: f"{r['data']['db_bytes'] / 1e6:.0f}"),
    ):
        table.add_row(label, *[get(r) for r in ordered])
    Console(width=200).print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, help="numbers of leads")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL server (postgres://…): one fresh database per size on it "
        "(default: $DATABASE_URL; empty: SQLite)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="the JSON to merge into")
    parser.add_argument("--keep", action="store_true", help="keep each size's files")
    parser.add_argument(
        "--again",
        type=Path,
        metavar="HOME",
        help="time again the organization of one size kept by an earlier run (--keep) in HOME "
        "(SQLite, or the PostgreSQL database named in HOME/database_url), migrated to this "
        "code, instead of building one",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        run_one(args.one, args.out, again=bool(os.environ.get("KEEPSCORE_SCALE_AGAIN")))
        return
    sizes = args.sizes or DEFAULT_SIZES
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    database = "postgresql" if args.database_url else "sqlite"
    if args.again is not None:
        if len(sizes) != 1:
            parser.error("--again times one size: give exactly one")
        database = "postgresql" if (args.again / "database_url").exists() else "sqlite"
    for size in sizes:
        if args.again is not None:
            result = run_again(size, args.again)
        else:
            result = run_size(size, args.database_url, args.keep)
        table_size(result)
        results.setdefault(result["database"], {})[str(size)] = result
        args.results.write_text(json.dumps(results, indent=2, default=str) + "\n")
    table_growth(database, results.get(database, {}))
    print(f"results: {args.results}")


if __name__ == "__main__":
    main()
