"""The scale benchmark's data: a synthetic organization, from a fixed seed, through the
project's own bulk paths (``import_leads`` for leads and their stage history,
``activities_bulk_add`` for activities). Streaming: memory stays flat whatever the size.

The data covers the 3 years up to :data:`END` (a fixed date, so results do not depend on
today; the import refuses dates in the future, so END must be in the past when run).
"""

from __future__ import annotations

import csv
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 20261031
#: the data ends on this day (inclusive); it starts 3 years before
END_DAY = date(2026, 10, 31)
END = datetime(END_DAY.year, END_DAY.month, END_DAY.day, 23, 59, tzinfo=UTC)
START = datetime(END_DAY.year - 3, END_DAY.month, END_DAY.day, tzinfo=UTC) + timedelta(days=1)
#: the month the scorecard is timed for (the data's last full month) and the funnel's year
MONTH = (date(2026, 10, 1), date(2026, 10, 31))
YEAR = (date(2025, 11, 1), date(2026, 10, 31))

#: the default ladder's open stages, in order (customer is won; lost is the lost stage)
LADDER = ("suspect", "prospect", "lead", "qualified", "proposal", "customer")
#: mean days from each stage to the next (suspect → prospect, …, proposal → customer)
STEP_DAYS = (4.0, 6.0, 9.0, 12.0, 20.0)
#: base chance of moving on from each stage (scaled by the channel's quality)
STEP_P = (0.97, 0.93, 0.88, 0.82, 0.65)
#: of the leads that do not move on: lost (the rest stall, open)
LOST_P = 0.85
LOST_DAYS = 15.0
#: channel name (the default channels), share of the leads, quality, share starting at "lead"
CHANNELS = (
    ("Walk-in", 0.06, 1.04, 0.7),
    ("Phone enquiry", 0.10, 1.02, 0.6),
    ("Website form", 0.20, 0.97, 0.0),
    ("Referral", 0.09, 1.06, 0.5),
    ("Trade show", 0.05, 1.00, 0.2),
    ("Telemarketing", 0.12, 0.86, 0.0),
    ("Email", 0.10, 0.92, 0.0),
    ("Social", 0.10, 0.90, 0.0),
    ("Search", 0.10, 0.99, 0.0),
    ("Ads", 0.08, 0.93, 0.0),
)
OWNERS = (
    "Ann Archer",
    "Ben Baker",
    "Cara Cole",
    "Dev Dutta",
    "Eli Evans",
    "Fay Fischer",
    "Gil Garcia",
    "Hal Hughes",
)
LOST_REASONS = (
    "Price too high",
    "Chose a competitor",
    "No budget",
    "Bad timing",
    "No decision / went silent",
    "Not a fit",
)
#: objection tags with their weight (``activities.models.ObjectionTag``)
OBJECTION_TAGS = (
    ("price", 30),
    ("timing", 20),
    ("competitor", 15),
    ("need", 15),
    ("trust", 8),
    ("authority", 7),
    ("other", 5),
)
#: the chance a lead has an objection logged: lost leads, and the rest
OBJECTION_P = {"lost": 0.6, "other": 0.15}
#: activity kinds with their weight and the chance that it is with someone who can buy
ACTIVITY_KINDS = (
    ("call_attempt", 34, 0.0),
    ("connect", 24, 0.5),
    ("qualifying", 12, 0.0),
    ("meeting", 12, 0.7),
    ("presentation", 9, 0.0),
    ("proposal", 9, 0.0),
)
HEADER = [
    "id",
    "name",
    "company",
    "email",
    "source",
    "owner",
    "value",
    "created",
    *(f"{key}_at" for key in LADDER),
    "lost_at",
    "revenue",
    "cost",
    "lost_reason",
]


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _minutes(rng: random.Random, mean_days: float) -> timedelta:
    return timedelta(minutes=max(1, round(rng.expovariate(1 / (mean_days * 1440)))))


def lead_rows(n: int, seed: int = SEED) -> Iterator[list[str]]:
    """N plain-preset rows: source, owner, value, created and one date per stage reached."""
    rng = random.Random(seed)
    span = int((END - START).total_seconds() // 60) - 1440
    names = [c[0] for c in CHANNELS]
    weights = [c[1] for c in CHANNELS]
    quality = {c[0]: c[2] for c in CHANNELS}
    starts_at_lead = {c[0]: c[3] for c in CHANNELS}
    for i in range(n):
        source = rng.choices(names, weights)[0]
        created = START + timedelta(minutes=rng.randrange(span))
        dates: dict[str, datetime] = {}
        stage = 2 if rng.random() < starts_at_lead[source] else 0
        dates[LADDER[stage]] = created
        at = created
        lost_at = None
        while stage < len(LADDER) - 1:
            p = min(0.98, STEP_P[stage] * quality[source])
            if rng.random() < p:
                nxt = stage + 1
                # a few leads skip "qualified" on their way to a proposal
                if LADDER[nxt] == "qualified" and rng.random() < 0.05:
                    nxt += 1
                at = at + _minutes(rng, sum(STEP_DAYS[stage:nxt]))
                if at > END:
                    break
                stage = nxt
                dates[LADDER[stage]] = at
            else:
                if rng.random() < LOST_P:
                    lost = at + _minutes(rng, LOST_DAYS)
                    if lost <= END:
                        lost_at = lost
                break
        value = round(rng.lognormvariate(8.0, 0.9), 2)
        won = "customer" in dates
        revenue = round(value * rng.uniform(0.7, 1.1), 2) if won else None
        cost = (
            round(revenue * rng.uniform(0.3, 0.8), 2)
            if revenue is not None and rng.random() > 0.1
            else None
        )
        yield [
            f"L{i:07d}",
            f"Lead {i}",
            f"Company {i % 9973}",
            f"lead{i}@example.com",
            source,
            rng.choice(OWNERS) if rng.random() > 0.05 else "",
            f"{value:.2f}",
            _stamp(created),
            *(_stamp(dates[k]) if k in dates else "" for k in LADDER),
            _stamp(lost_at) if lost_at is not None else "",
            f"{revenue:.2f}" if revenue is not None else "",
            f"{cost:.2f}" if cost is not None else "",
            rng.choice(LOST_REASONS) if lost_at is not None else "",
        ]


def csv_write(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(lead_rows(n))


class Progress:
    """One plain progress line on stderr, rewritten in place (at most every 0.5 s)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = 0.0
        self.started = time.perf_counter()
        #: not a terminal (a log): a line every 10 s instead of one rewritten line
        self.tty = sys.stderr.isatty()

    def __call__(self, step: str, fraction: float) -> None:
        now = time.perf_counter()
        if now - self.shown >= (0.5 if self.tty else 10) or (fraction >= 1 and self.tty):
            self.shown = now
            text = f"  {self.label}: {step} {fraction:6.1%} ({now - self.started:5.1f} s)"
            sys.stderr.write(f"\r{text}  " if self.tty else f"{text}\n")
            sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\r" + " " * 70 + "\r")
            sys.stderr.flush()


def activity_rows(organization: Any, seed: int = SEED) -> Iterator[tuple[Any, ...]]:
    """About 5 activities per lead, between its first touch and its last stage change.

    Reads the leads back in id order (streamed), so the rows follow from the seed.
    """
    from keepscore.leads.models import Lead

    rng = random.Random(seed + 1)
    kinds = [k for k, _w, _b in ACTIVITY_KINDS]
    weights = [w for _k, w, _b in ACTIVITY_KINDS]
    buyer = {k: b for k, _w, b in ACTIVITY_KINDS}
    leads = (
        Lead.objects.for_org(organization)
        .order_by("pk")
        .values_list("pk", "first_touch_at", "stage_entered_at", "owner_id")
    )
    for pk, first_touch, last_change, owner in leads.iterator(chunk_size=10_000):
        until = min(END, max(last_change, first_touch + timedelta(days=3)))
        seconds = max(1, int((until - first_touch).total_seconds()))
        count = rng.randint(2, 8)
        for at in sorted(
            first_touch + timedelta(seconds=rng.randrange(seconds)) for _ in range(count)
        ):
            kind = rng.choices(kinds, weights)[0]
            by = owner if rng.random() > 0.1 else None
            yield (pk, kind, at, by, rng.random() < buyer[kind])


def objection_rows(organization: Any, seed: int = SEED) -> Iterator[tuple[Any, ...]]:
    """Objections: on about 60% of the lost leads and 15% of the others, one (sometimes two)
    between the lead's first touch and its last stage change, logged by its owner.

    Reads the leads back in id order (streamed), so the rows follow from the seed.
    """
    from keepscore.leads.models import Lead

    rng = random.Random(seed + 3)
    tags = [t for t, _w in OBJECTION_TAGS]
    weights = [w for _t, w in OBJECTION_TAGS]
    leads = (
        Lead.objects.for_org(organization)
        .order_by("pk")
        .values_list("pk", "first_touch_at", "stage_entered_at", "owner_id", "stage__kind")
    )
    for pk, first_touch, last_change, owner, kind in leads.iterator(chunk_size=10_000):
        if rng.random() >= OBJECTION_P["lost" if kind == "lost" else "other"]:
            continue
        until = min(END, max(last_change, first_touch + timedelta(days=1)))
        seconds = max(1, int((until - first_touch).total_seconds()))
        for _ in range(2 if rng.random() < 0.2 else 1):
            at = first_touch + timedelta(seconds=rng.randrange(seconds))
            yield (pk, rng.choices(tags, weights)[0], at, owner)


def objections_add(organization: Any, say: Callable[[str], None]) -> int:
    """The objections of :func:`objection_rows`, written in batches through the history
    recorder's bulk writer (``keepscore.history.bulk``, as the archive import writes them)."""
    from itertools import islice

    from keepscore.activities.models import Objection
    from keepscore.history.bulk import bulk

    t0 = time.perf_counter()
    written = 0
    org = organization.pk
    rows = objection_rows(organization)
    with bulk(organization) as block:
        while batch := list(islice(rows, 5_000)):
            block.create(
                [
                    Objection(organization_id=org, lead_id=lead, tag=tag, at=at, by_id=by)
                    for lead, tag, at, by in batch
                ]
            )
            written += len(batch)
    say(f"objections: {written:,} in {time.perf_counter() - t0:.1f} s")
    return written


def followups_add(organization: Any, say: Callable[[str], None]) -> int:
    """Next steps on about half the open leads, for the lead's owner, due from 10 days ago to
    14 days ahead of today (so the Today page has some due, some overdue); a quarter of them
    done yesterday. Written with ``bulk_create`` (follow-ups are not history: no recorder)."""
    from itertools import islice

    from django.utils import timezone

    from keepscore.followups.models import FollowUp, FollowUpKind
    from keepscore.leads.models import Lead

    t0 = time.perf_counter()
    rng = random.Random(SEED + 5)
    today = timezone.localdate()
    yesterday = timezone.now() - timedelta(days=1)
    kinds = list(FollowUpKind.values)
    leads = (
        Lead.objects.for_org(organization)
        .filter(stage__kind="open")
        .order_by("pk")
        .values_list("pk", "owner_id")
    )

    def rows() -> Iterator[FollowUp]:
        for pk, owner in leads.iterator(chunk_size=10_000):
            if rng.random() < 0.5:
                done = rng.random() < 0.25
                yield FollowUp(
                    organization=organization,
                    lead_id=pk,
                    kind=rng.choice(kinds),
                    due_on=today + timedelta(days=rng.randint(-10, 14)),
                    owner_id=owner,
                    created_by_id=owner,
                    done_at=yesterday if done else None,
                    done_by_id=owner if done else None,
                )

    written = 0
    source = rows()
    while batch := list(islice(source, 5_000)):
        FollowUp.objects.bulk_create(batch)
        written += len(batch)
    say(f"follow-ups: {written:,} in {time.perf_counter() - t0:.1f} s")
    return written


# --- spend and manual metrics -----------------------------------------------------------


def spend_add(organization: Any, say: Callable[[str], None]) -> None:
    """Monthly spend per paid channel for every month of the data, through the service the
    app, the CLI import and the API use (``keepscore.economics.services.spend_set``)."""
    import random

    from keepscore.economics.services import spend_set

    rng = random.Random(SEED + 11)
    paid = {"ads": 9_000, "search": 6_000, "trade-show": 4_000, "email": 800, "social": 2_500}
    months = 0
    day = date(START.year, START.month, 1)
    while day <= END_DAY:
        for key, base in paid.items():
            spend_set(
                organization=organization,
                month=day,
                channel=key,
                amount=f"{base * rng.uniform(0.7, 1.3):.2f}",
            )
        months += 1
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    say(f"spend: {len(paid)} paid channels, {months} months each")


def owner_setup_add(organization: Any, say: Callable[[str], None]) -> None:
    """What an owner enters once, so the dashboard shows all it can: this year's goals for
    customers, revenue and new leads, and this month's cash position (its card also reads
    the year's median sales cycle), through the services the app uses."""
    from django.utils import timezone

    from keepscore.economics.services import cash_set
    from keepscore.scorecard.services import goal_set

    today = timezone.localdate()
    for key, value in (("customers", 120_000), ("revenue", 150_000_000), ("new_leads", 400_000)):
        goal_set(organization=organization, metric_key=key, year=today.year, value=value)
    cash_set(
        organization=organization,
        month=today.replace(day=1),
        cash_on_hand="2500000",
        monthly_fixed_costs="400000",
    )
    say(f"owner setup: 3 goals for {today.year}, cash for {today:%B %Y}")


def manual_metrics_add(organization: Any, say: Callable[[str], None]) -> None:
    """Manual scorecard metrics (website visitors, downloads) for every month of the data,
    through the same service the app, the CLI import and the API use."""
    import random

    from keepscore.scorecard.services import manual_metric_save, manual_values_set

    rng = random.Random(SEED + 7)
    months = []
    day = date(START.year, START.month, 1)
    while day <= END_DAY:
        months.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    for name, low, high in (("Website visitors", 20_000, 60_000), ("Downloads", 300, 1_500)):
        metric = manual_metric_save(organization=organization, name=name, group="SUSPECT")
        for year in sorted({m.year for m in months}):
            values = {m: rng.randrange(low, high) for m in months if m.year == year}
            manual_values_set(metric=metric, values=values)
    say(f"manual metrics: 2 metrics, {len(months)} months each")


@dataclass
class Built:
    leads: int
    stage_changes: int
    outcomes: int
    activities: int
    csv_bytes: int
    import_s: float
    activities_s: float
    build_s: float


def build(organization: Any, n: int, workdir: Path, say: Callable[[str], None]) -> Built:
    """Generate, import and add activities: the organization's whole data set."""
    import keepscore.economics.services  # noqa: F401  (loaded before the long build)
    from keepscore.activities.bulk import activities_bulk_add
    from keepscore.imports.services import import_leads

    if datetime.now(UTC) < END:
        raise SystemExit(f"the data ends on {END_DAY}, after today: the import would refuse it")
    started = time.perf_counter()
    path = workdir / f"leads-{n}.csv"
    csv_write(path, n)
    csv_bytes = path.stat().st_size
    say(f"generated {path.name}: {csv_bytes / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
    t0 = time.perf_counter()
    progress = Progress("import")
    result = import_leads(organization=organization, path=path, progress=progress)
    progress.done()
    import_s = time.perf_counter() - t0
    if result.failed or result.created != n:
        errors = [(e.line, e.column, e.reason) for e in result.errors[:5]]
        raise SystemExit(f"import failed: {result.problems} {errors}")
    say(
        f"imported {result.created:,} leads, {result.stage_changes:,} stage changes, "
        f"{result.outcomes:,} outcomes in {import_s:.1f} s "
        f"({len(result.new_members)} new members)"
    )
    path.unlink()
    t1 = time.perf_counter()
    written = activities_bulk_add(organization, _counted(activity_rows(organization), n))
    activities_s = time.perf_counter() - t1
    say(f"added {written:,} activities in {activities_s:.1f} s")
    objections_add(organization, say)
    followups_add(organization, say)
    spend_add(organization, say)
    manual_metrics_add(organization, say)
    owner_setup_add(organization, say)
    return Built(
        leads=result.created,
        stage_changes=result.stage_changes,
        outcomes=result.outcomes,
        activities=written,
        csv_bytes=csv_bytes,
        import_s=import_s,
        activities_s=activities_s,
        build_s=time.perf_counter() - started,
    )


def _counted(rows: Iterator[tuple[Any, ...]], leads: int) -> Iterator[tuple[Any, ...]]:
    """The rows, with a progress line (by the lead they belong to)."""
    progress = Progress("activities")
    seen, last = 0, None
    for row in rows:
        if row[0] != last:
            last = row[0]
            seen += 1
            if not seen % 10_000:
                progress("writing", seen / leads)
        yield row
    progress.done()
