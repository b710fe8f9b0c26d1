"""Deals import (the ``olist`` preset): closed deals mark imported leads won.

Each row's ``mql_id`` is a lead's ``external_id``; the lead moves to the ladder's won stage on
``won_date`` with ``declared_monthly_revenue`` as revenue (0 allowed), by the sales rep
(``sr_id``), who becomes the lead's owner; the SDR (``sdr_id``), who qualified it, becomes who
sourced it. Both are recorded as members without login (marketing and sales roles). The
qualification facts are kept in ``lead.facts``. All-or-nothing like the leads import; a lead
already won is a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.history.bulk import Bulk, bulk
from keepscore.imports.cells import local_zone, money_parse, short
from keepscore.imports.dates import ColumnDates, DateFormat, date_format_parse, date_read
from keepscore.imports.engine import NEW_MEMBER_DOMAIN, Progress
from keepscore.imports.readers import FileProblem, rows_with_retry, table_open
from keepscore.imports.report import ImportResult, RowError, job_record
from keepscore.imports.writing import OVERRIDE_REASON
from keepscore.leads.models import (
    DealOutcome,
    Lead,
    QualificationCriterion,
    Stage,
    StageChange,
    StageKind,
)

FACTS = (
    "business_segment",
    "lead_type",
    "lead_behaviour_profile",
    "has_company",
    "has_gtin",
    "average_stock",
    "business_type",
    "declared_product_catalog_size",
    "declared_monthly_revenue",
)
REQUIRED = ("mql_id", "won_date", "sdr_id", "sr_id")


def import_deals(
    *,
    organization: Organization,
    path: Path,
    preset: str = "olist",
    date_format: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    by: Membership | None = None,
    progress: Progress | None = None,
    encoding: str = "",
    file_name: str = "",
) -> ImportResult:
    """Mark leads won from a closed-deals file; never raises for a bad file or bad rows.
    ``encoding``: the CSV's, when it is neither UTF-8 nor Windows-1252 (else detected)."""
    path = Path(path)
    result = ImportResult(
        kind="deals",
        file=file_name or path.name,
        preset=preset,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
    )
    started = timezone.now()
    try:
        if preset != "olist":
            raise FileProblem(f"deals can be imported with the olist preset only, not {preset!r}")
        rows = _rows_check(organization, path, date_format, result, encoding)
        if not result.failed and not dry_run:
            with transaction.atomic():
                _write(organization, rows, result)
            result.imported = True
    except (FileProblem, ValueError) as error:
        result.problems.append(str(error))
    job_record(organization, result, by, started)
    return result


def _rows_check(
    organization: Organization,
    path: Path,
    date_format: str | None,
    result: ImportResult,
    encoding: str = "",
) -> list[dict[str, Any]]:
    table = table_open(path, encoding=encoding, offers_encoding=True, name=result.file)
    result.file_format = table.describe()
    index = {h.lower(): i for i, h in enumerate(table.header)}
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        raise FileProblem(f"missing required column: {', '.join(missing)}")
    won_i = index["won_date"]
    fmt: DateFormat
    if date_format:
        fmt = date_format_parse(date_format)
    else:
        watcher = ColumnDates(column="won_date")

        def observe(rows: Iterator[tuple[int, list[str]]]) -> None:
            for _line, values in rows:
                if won_i < len(values) and values[won_i].strip():
                    watcher.observe(values[won_i].strip())

        rows_with_retry(table, observe)
        settled = watcher.settle()
        if isinstance(settled, str):
            raise FileProblem(settled)
        fmt = settled or date_format_parse("YYYY-MM-DD")
    result.date_formats["won_date"] = fmt.label
    zone = local_zone()
    latest = timezone.now()
    raw: list[tuple[int, list[str]]] = []

    def collect(rows: Iterator[tuple[int, list[str]]]) -> None:
        raw.clear()
        for line, values in rows:
            raw.append((line, values + [""] * (len(table.header) - len(values))))

    rows_with_retry(table, collect)
    result.rows = len(raw)
    if not raw:
        raise FileProblem(f"{result.file} has a header but no rows")
    ids = {values[index["mql_id"]].strip() for _line, values in raw}
    leads: dict[str, tuple[int, int, datetime]] = {}
    id_list = sorted(i for i in ids if i)
    for start in range(0, len(id_list), 500):
        chunk = id_list[start : start + 500]
        for pk, external_id, stage_id, entered in (
            Lead.objects.for_org(organization)
            .filter(external_id__in=chunk)
            .values_list("pk", "external_id", "stage_id", "stage_entered_at")
        ):
            leads.setdefault(external_id, (pk, stage_id, entered))
    won_ids = set(
        Stage.objects.for_org(organization).filter(kind=StageKind.WON).values_list("pk", flat=True)
    )
    seen: set[str] = set()
    good: list[dict[str, Any]] = []
    for line, values in raw:
        errors: list[tuple[str, str]] = []
        mql_id = values[index["mql_id"]].strip()
        lead = leads.get(mql_id)
        if not mql_id:
            errors.append(("mql_id", "is empty"))
        elif lead is None:
            errors.append(
                ("mql_id", f"{short(mql_id)} is not a lead's id (import the leads file first)")
            )
        won_text = values[won_i].strip()
        won_at = date_read(fmt, won_text, zone) if won_text else None
        if won_at is None:
            errors.append(("won_date", f"{short(won_text)} is not a date in {fmt.label}"))
        elif won_at > latest:
            errors.append(("won_date", f"{short(won_text)} is in the future"))
        elif lead is not None and lead[1] not in won_ids and won_at < lead[2]:
            # real data does this (Olist: won two days before the first contact): the file's
            # date is kept, and said
            result.warnings.append(
                RowError(line, "won_date", "is before the lead's latest stage change; kept")
            )
        revenue: Any = Decimal(0)
        if "declared_monthly_revenue" in index:
            text = values[index["declared_monthly_revenue"]].strip()
            revenue = money_parse(text) if text else Decimal(0)
            if isinstance(revenue, str):
                errors.append(("declared_monthly_revenue", revenue))
        people = {}
        for role in ("sdr_id", "sr_id"):
            person = values[index[role]].strip()
            if len(person) > 60 or not person.replace("-", "").replace("_", "").isalnum():
                errors.append((role, f"{short(person)} is not an id"))
            people[role] = person.lower()
        if errors:
            result.rejected += 1
            for column, reason in errors:
                result.error(line, column, reason)
            continue
        assert lead is not None and won_at is not None
        if mql_id in seen or lead[1] in won_ids:
            result.duplicate(line, "mql_id", "this lead is already won")
            continue
        seen.add(mql_id)
        facts = {f: values[index[f]].strip() for f in FACTS if f in index}
        good.append(
            {
                "lead": lead[0],
                "won_at": won_at,
                "revenue": revenue,
                "sdr": people["sdr_id"],
                "sr": people["sr_id"],
                "facts": {k: v for k, v in facts.items() if v},
            }
        )
    return good


def _members(organization: Organization, rows: list[dict[str, Any]], result: ImportResult) -> dict:
    from keepscore.accounts.services import member_find_or_add

    roles: dict[str, set[str]] = {}
    for row in rows:
        roles.setdefault(row["sdr"], set()).add("sdr")
        roles.setdefault(row["sr"], set()).add("sr")
    out: dict[str, Membership] = {}
    for person, kinds in roles.items():
        email = f"{person}@{NEW_MEMBER_DOMAIN}"
        membership, new = member_find_or_add(
            organization=organization,
            email=email,
            first_name="SR" if "sr" in kinds else "SDR",
            last_name=person[:8],
            is_marketing="sdr" in kinds,
            is_sales="sr" in kinds,
        )
        if new:
            result.new_members.append(email)
        else:
            changed = False
            if "sdr" in kinds and not membership.is_marketing:
                membership.is_marketing = changed = True
            if "sr" in kinds and not membership.is_sales:
                membership.is_sales = changed = True
            if changed:
                membership.save(update_fields=["is_marketing", "is_sales"])
        out[person] = membership
    return out


def _write(organization: Organization, rows: list[dict[str, Any]], result: ImportResult) -> None:
    ladder = list(Stage.objects.for_org(organization))
    won = next(s for s in ladder if s.kind == StageKind.WON)
    gate = next((s for s in ladder if s.requires_qualification and s.kind == "open"), None)
    past_gate = (
        gate is not None
        and won.position >= gate.position
        and QualificationCriterion.objects.for_org(organization)
        .filter(active=True, required=True)
        .exists()
    )
    members = _members(organization, rows, result)
    leads = Lead.objects.for_org(organization).in_bulk([r["lead"] for r in rows])
    with bulk(organization, extends=list(leads)) as block:
        _write_rows(block, rows, leads, members, won, past_gate)
    result.created = len(rows)
    result.stage_changes = result.outcomes = len(rows)


def _write_rows(
    block: Bulk,
    rows: list[dict[str, Any]],
    leads: dict[Any, Lead],
    members: dict[str, Membership],
    won: Stage,
    past_gate: bool,
) -> None:
    """Each row's won stage change and outcome, and its lead moved to won."""
    organization, now = block.organization, block.now
    created = block.created
    ops = connection.ops
    change_ids, outcome_ids = block.ids(StageChange, len(rows)), block.ids(DealOutcome, len(rows))
    change_rows, outcome_rows = [], []
    for row in rows:
        lead = leads[row["lead"]]
        sr = members[row["sr"]]
        change_id, at = next(change_ids), row["won_at"]
        change_rows.append(
            (
                change_id,
                organization.pk,
                created,
                lead.pk,
                lead.stage_id,
                won.pk,
                ops.adapt_datetimefield_value(at),
                sr.user_id,
                "",
                past_gate,
                OVERRIDE_REASON if past_gate else "",
            )
        )
        outcome_rows.append(
            (
                next(outcome_ids),
                organization.pk,
                created,
                lead.pk,
                change_id,
                DealOutcome.Result.WON.value,
                ops.adapt_datetimefield_value(at),
                ops.adapt_decimalfield_value(row["revenue"], 14, 2),
                None,
                None,
                "",
            )
        )
        lead.stage = won
        lead.stage_entered_at = at
        lead.owner = sr
        # the SDR who qualified it brought it in: marketing's (pre-sales) credit
        lead.sourced_by = members[row["sdr"]]
        lead.facts = {**lead.facts, **row["facts"]}
        lead.updated_at = now
    block.write(StageChange, change_rows)
    block.write(DealOutcome, outcome_rows)
    block.update(
        list(leads.values()),
        ["stage", "stage_entered_at", "owner", "sourced_by", "facts", "updated_at"],
    )
