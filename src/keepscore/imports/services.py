"""The lead import's entry point, import_leads: CSV/XLSX leads, all or nothing, with a report.

Streaming passes over the file, never all of it in memory, by the engine
(:class:`~keepscore.imports.writing.LeadImport`, set up by :mod:`~keepscore.imports.engine`):

0. dates (:mod:`~keepscore.imports.date_columns`): each date column's format is settled from
   every value (or ``--date-format``): from the first
   :data:`~keepscore.imports.date_columns.DATE_SAMPLE` rows, then confirmed by the check,
   which watches the rest of the column (checked again in the rare case the whole column
   reads otherwise);
1. check (:mod:`~keepscore.imports.checking`, a row read by :mod:`~keepscore.imports.rows`
   or, the usual row, :mod:`~keepscore.imports.fast_rows`): every row is parsed and
   validated, duplicates found (against the organization's leads and earlier rows) keeping
   only compact keys; the valid rows are kept, with the database's values, in memory and
   past :data:`~keepscore.imports.checking.KEEP_ROWS` in a temporary file (a dry run of a
   large plain CSV does this pass over whole columns, :mod:`keepscore.imports.columnar`,
   with the same result);
2. write (:mod:`~keepscore.imports.writing`): only when no row is invalid (or with
   ``skip_invalid``), in one transaction, rows inserted in batches with their stage changes
   and deal outcomes.

The report is :class:`~keepscore.imports.report.ImportResult`, recorded as an import job.

The rules are those of ``leads.services``: a lead's history starts with a change from
nothing at its first touch; won needs revenue, lost needs a reason; the lead's stage and
``stage_entered_at`` are its last change's. Imported history passes the qualification gate
with ``qualification_override`` and the reason ``imported``. Unknown sources become new
channels (at most :data:`~keepscore.imports.engine.MAX_NEW_CHANNELS`); unknown owners new
members without login. Who sourced a lead is its ``sourced_by`` column (a member, found or
made as owners are), else the member who runs the import.

A row's first touch is its created date, else its earliest stage date, else the
``--default created`` date, else (``missing_dates="now"``) the moment of the import, with a
warning; otherwise the row is an error. A close date (``closed_at``) is the won date of a won
row and the lost date of a lost one (an error on an open row); a row is never won and lost.
A column may feed several fields (``created,lead_at``) or be kept as a lead fact
(``fact:NAME``). Defaults (``--default FIELD=VALUE``) fill the rows without a value and
override the preset's.
"""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.history.bulk import bulk
from keepscore.imports import columnar
from keepscore.imports.checking import Spill
from keepscore.imports.engine import Progress
from keepscore.imports.options import MATCH_KEYS
from keepscore.imports.presets import preset_get
from keepscore.imports.readers import FileProblem, table_open
from keepscore.imports.report import ImportResult, job_record, rejected_write
from keepscore.imports.writing import LeadImport


def import_leads(
    *,
    organization: Organization,
    path: Path,
    preset: str = "plain",
    mapping: dict[str, str] | None = None,
    date_format: str | None = None,
    stage_map: dict[str, str] | None = None,
    owner_map: dict[str, str] | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    by: Membership | None = None,
    new_members: bool = True,
    progress: Progress | None = None,
    rejected_path: Path | None = None,
    encoding: str = "",
    file_name: str = "",
    defaults: dict[str, str] | None = None,
    missing_dates: str = "error",
    match: tuple[str, ...] | None = None,
    update: bool = False,
) -> ImportResult:
    """Import leads from a CSV or XLSX file; see the module's docstring.

    ``mapping``: column → field(s): a field's key or plain label, several separated by commas
    (``"created,lead_at"``), ``fact:NAME`` (kept in the lead's facts) or ``-``.
    ``defaults``: field (as ``mapping`` names it) → value for the rows without one (see
    :data:`~keepscore.imports.options.DEFAULTABLE`); they override the preset's.
    ``missing_dates``: ``"error"`` (a row without a date of first contact is an error) or
    ``"now"`` (it gets the moment of the import, and a warning).

    Never raises for a bad file or bad rows: the result carries the problems (file-level)
    and the row errors. ``result.failed`` says nothing was imported because of them.
    ``encoding``: the CSV's, when it is neither UTF-8 nor Windows-1252 (else detected).
    ``file_name``: the file's name in the messages, when ``path`` is a stored upload's.
    ``match``: the keys a row is a duplicate by (among
    :data:`~keepscore.imports.options.MATCH_KEYS`; None: all three). ``update``: a row
    matching an existing lead updates it
    (:data:`~keepscore.imports.writing.UPDATED_FIELDS`, the stage forward only) instead of
    being skipped; rows repeating an earlier row are skipped.
    """
    path = Path(path)
    chosen_keys = MATCH_KEYS if match is None else tuple(k for k in MATCH_KEYS if k in match)
    result = ImportResult(
        kind="leads",
        file=file_name or path.name,
        preset=preset,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        match=chosen_keys,
        update=update,
    )
    unknown = [k for k in match or () if k not in MATCH_KEYS]
    if unknown:
        result.problems.append(
            f"match: {', '.join(map(repr, unknown))} is not a key (keys: {', '.join(MATCH_KEYS)})"
        )
        job_record(organization, result, by, timezone.now())
        return result
    started = timezone.now()
    try:
        chosen = preset_get(preset)
        table = table_open(path, encoding=encoding, offers_encoding=True, name=result.file)
        result.file_format = table.describe()
        engine = LeadImport(
            organization=organization,
            table=table,
            preset=chosen,
            mapping={k.strip(): v for k, v in (mapping or {}).items()},
            date_format=date_format,
            stage_map={k.strip().lower(): v for k, v in (stage_map or {}).items()},
            owner_map={k.strip().lower(): v for k, v in (owner_map or {}).items()},
            new_members=new_members,
            result=result,
            defaults=defaults,
            missing_dates=missing_dates,
        )
        engine.dates_detect()
        if not result.problems:
            if progress is not None:
                progress("checking", 0.0)
            if dry_run and columnar.check(engine, progress):
                kept = Spill(None)  # checked over whole columns (large plain CSVs)
            else:
                kept = engine.check(progress, keep=not dry_run)
            if not engine.dates_confirm():
                kept.close()  # checked with the sample's date formats: again with the file's
                kept = engine.check(progress, keep=not dry_run)
            if not result.rows and not result.problems:
                result.problems.append(f"{result.file} has a header but no rows")
            result.file_format = table.describe()
            try:
                if not result.failed and not dry_run:
                    with bulk(organization, now=engine.now) as block:
                        engine.write(block, kept, by, progress)
                    result.imported = True
            finally:
                kept.close()
                if skip_invalid and result.errors_total:
                    result.rejected_path = rejected_path or path.with_name(
                        path.name + ".rejected.csv"
                    )
                    rejected_write(table, engine.rejected_lines, result)
    except (FileProblem, ValueError) as error:
        result.problems.append(str(error))
    job_record(organization, result, by, started)
    return result
