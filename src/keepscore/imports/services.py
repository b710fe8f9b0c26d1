"""The import engine: leads from CSV/XLSX, all-or-nothing, with a row-by-row report.

Streaming passes over the file, never all of it in memory:

0. dates: each date column's format is settled from every value (or ``--date-format``):
   from the first :data:`DATE_SAMPLE` rows, then confirmed by the check, which watches the
   rest of the column (checked again in the rare case the whole column reads otherwise);
1. check: every row is parsed and validated, duplicates found (against the organization's
   leads and earlier rows) keeping only compact keys; the valid rows are kept, with the
   database's values, in memory and past :data:`KEEP_ROWS` in a temporary file (a dry run
   of a large plain CSV does this pass over whole columns, :mod:`keepscore.imports.columnar`,
   with the same result);
2. write: only when no row is invalid (or with ``skip_invalid``), in one transaction, rows
   inserted in batches with their stage changes and deal outcomes.

The rules are those of ``leads.services``: a lead's history starts with a change from
nothing at its first touch; won needs revenue, lost needs a reason; the lead's stage and
``stage_entered_at`` are its last change's. Imported history passes the qualification gate
with ``qualification_override`` and the reason ``imported``. Unknown sources become new
channels (at most :data:`MAX_NEW_CHANNELS`); unknown owners new members without login. Who
sourced a lead is its ``sourced_by`` column (a member, found or made as owners are), else the
member who runs the import.

A row's first touch is its created date, else its earliest stage date, else the
``--default created`` date, else (``missing_dates="now"``) the moment of the import, with a
warning; otherwise the row is an error. A close date (``closed_at``) is the won date of a won
row and the lost date of a lost one (an error on an open row); a row is never won and lost.
A column may feed several fields (``created,lead_at``) or be kept as a lead fact
(``fact:NAME``). Defaults (``--default FIELD=VALUE``) fill the rows without a value and
override the preset's.
"""

from __future__ import annotations

import csv
import pickle
import re
import tempfile
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.text import slugify

from keepscore.accounts.models import Membership, Organization, User
from keepscore.audit import services as audit
from keepscore.common.numbers import decimal_parse
from keepscore.common.validation import CLOCK_SKEW
from keepscore.history.bulk import Bulk, bulk, datetime_adapter
from keepscore.imports import columnar
from keepscore.imports.dates import (
    CANDIDATES,
    ColumnDates,
    DateFormat,
    date_format_parse,
    date_matcher,
    date_reader,
    value_match,
)
from keepscore.imports.headers import (
    FACT_PREFIX,
    LABELS,
    columns_guess,
    field_key,
    stage_label,
    status_word,
)
from keepscore.imports.models import ImportJob
from keepscore.imports.presets import FIELDS, IGNORE, Preset, preset_get
from keepscore.imports.readers import MAX_FIELD, FileProblem, Table, rows_with_retry, table_open
from keepscore.leads.models import (
    Channel,
    DealOutcome,
    Lead,
    LostReason,
    QualificationCriterion,
    Stage,
    StageChange,
    StageKind,
)

BATCH = 5_000
#: SQLite's page cache while the import writes (negative: KiB), the connection's again after
SQLITE_CACHE_KB = -65536
#: rows read to settle the date formats before the check (which watches the rest)
DATE_SAMPLE = 2_000
#: rows kept in memory between the check and the write (the rest in a temporary file)
KEEP_ROWS = 20_000
#: errors kept for the report (the count goes on beyond)
MAX_ERRORS = 100_000
MAX_NEW_CHANNELS = 200
OVERRIDE_REASON = "imported"
#: what a row can match an existing lead (or an earlier row) by, in the order tried
MATCH_KEYS = ("external_id", "email", "phone")
KEY_WORDS = {"external_id": "id", "email": "email", "phone": "phone"}
#: a duplicate's match in an earlier row of the file (a lead's is its id, positive)
IN_FILE = -1
#: names listed at most per kind in ``would_create`` (campaigns can be many)
MAX_LISTED = 1_000
#: duplicates' lead names fetched per query
NAMES_CHUNK = 1_000
NEW_MEMBER_DOMAIN = "members.invalid"
#: a lead fact's name (``--map "Product=fact:product"``) and value, at most
FACT_NAME_MAX = 50
FACT_VALUE_MAX = 200
#: the fields ``--default FIELD=VALUE`` can fill (where a row's value is empty or the column
#: is absent): text fields, the stage, the revenue of won rows and the date of first contact
DEFAULTABLE = (
    "source",
    "lost_reason",
    "owner",
    "sourced_by",
    "company",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "notes",
    "stage",
    "revenue",
    "created",
)
#: ``missing_dates``: a row without a date of first contact is an error, or gets the moment
#: of the import (and a warning)
MISSING_DATES = ("error", "now")
MISSING_DATE = (
    "no date of first contact (created); choose --missing-dates now to use the moment of import"
)
MISSING_DATE_NOW = "no date of first contact (created): the moment of import is used"
#: dates before this year are errors (a typo, or a spreadsheet's day zero)
EARLIEST_YEAR = 1900

Progress = Callable[[str, float], None]
#: a row's history, as the fast path reads it: (final stage id, a second change?, won?, lost?)
StagePlan = tuple[int, bool, bool, bool]

if TYPE_CHECKING:
    from keepscore.imports.columnar import Columns


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str
    #: a duplicate's: the id of the existing lead it matched (None: an earlier row of the file)
    lead: int | None = None


@dataclass
class ImportResult:
    kind: str
    file: str
    preset: str
    dry_run: bool = False
    skip_invalid: bool = False
    file_format: str = ""
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    imported: bool = False
    problems: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    duplicate_rows: list[RowError] = field(default_factory=list)
    #: rows imported as they are, with something odd about them
    warnings: list[RowError] = field(default_factory=list)
    warnings_total: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    date_formats: dict[str, str] = field(default_factory=dict)
    new_channels: list[str] = field(default_factory=list)
    new_members: list[str] = field(default_factory=list)
    new_lost_reasons: list[str] = field(default_factory=list)
    stage_changes: int = 0
    outcomes: int = 0
    rejected_path: Path | None = None
    job_id: int | None = None
    #: rows that match an existing lead, with ``update`` (dry run: would update them; the
    #: import: the leads it changed, a row with nothing new changing nothing)
    updated: int = 0
    #: what the import creates (filled by the check): "members" ({name, email, roles}),
    #: "channels", "campaigns", "lost_reasons", "facts" (names), "stages" (stage name → new
    #: leads ending there, in ladder order)
    would_create: dict[str, Any] = field(default_factory=dict)
    #: the keys a duplicate is found by, among MATCH_KEYS
    match: tuple[str, ...] = ()
    update: bool = False
    #: the check was done over whole columns (:mod:`keepscore.imports.columnar`)
    columnar: bool = False
    #: the leads the import created: {"first": id, "last": id, "at": their created_at (ISO)}
    #: (their ids run from first to last: one block of ids), for the lead list's filter
    created_leads: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Nothing could be imported because of problems or (without skip) bad rows."""
        return bool(self.problems) or (bool(self.errors_total) and not self.skip_invalid)

    def error(self, line: int, column: str, reason: str) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(line, column, reason))

    def warning(self, line: int, column: str, reason: str) -> None:
        self.warnings_total += 1
        if len(self.warnings) < MAX_ERRORS:
            self.warnings.append(RowError(line, column, reason))

    def duplicate(self, line: int, column: str, reason: str, lead: int | None = None) -> None:
        self.duplicates += 1
        if len(self.duplicate_rows) < MAX_ERRORS:
            self.duplicate_rows.append(RowError(line, column, reason, lead))


# --- value parsing ----------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\].]{2,}")
_NOT_DIGIT = re.compile(r"\D")
#: what phone numbers usually hold besides digits (a C-level delete before the regex)
_PHONE_PUNCTUATION = str.maketrans("", "", " +-().\t/")
_MAX_MONEY = Decimal("1e12")
_CENT = Decimal("0.01")
#: the usual amount (``1234.5``): read directly, the same as the general path below
_PLAIN_MONEY = re.compile(r"\d{1,12}(?:\.\d{0,2})?")

_TEXT_LIMITS = {
    "external_id": 100,
    "name": 200,
    "company": 200,
    "email": 254,
    "phone": 40,
    "notes": MAX_FIELD,
    "campaign": 200,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "owner": 200,
    "sourced_by": 200,
    "source": 100,
    "lost_reason": 100,
    "first_name": 150,
    "last_name": 150,
}


def money_parse(text: str) -> Decimal | str:
    """A non-negative amount (``1234.5``, ``1,234.50``, ``1.234,50``, ``€ 12``), or the reason."""
    if _PLAIN_MONEY.fullmatch(text):
        return Decimal(text).quantize(_CENT)
    value = decimal_parse(text) if "%" not in text else None
    if value is None:
        return f"{_short(text)} is not an amount"
    if value < 0:
        return "cannot be negative"
    if value >= _MAX_MONEY:
        return "is too large"
    if value != value.quantize(Decimal("0.01")):
        return "has more than 2 decimals"
    return value.quantize(Decimal("0.01"))


def phone_key(phone: str) -> str:
    digits = phone.translate(_PHONE_PUNCTUATION)
    if not digits.isascii() or not digits.isdigit():
        digits = _NOT_DIGIT.sub("", digits)
    return digits if len(digits) >= 7 else ""


def channel_name(source: str) -> str:
    """The name of the channel a new source becomes (``paid_search`` → ``Paid search``)."""
    return source.replace("_", " ").capitalize() if source.islower() else source


def _short(text: str, n: int = 40) -> str:
    return repr(text if len(text) <= n else text[:n] + "…")


def _zone() -> tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def pairs_list_parse(values: list[str], shape: str = "COLUMN=FIELD") -> dict[str, str]:
    """Repeated ``NAME=VALUE`` (``--map``, ``--default``, the API's ``map``…) → a dict;
    ValueError for a value without ``=`` or a name, or a name given twice."""
    out: dict[str, str] = {}
    for value in values:
        name, sep, target = value.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{value!r} is not {shape}")
        if name.strip() in out:
            raise ValueError(f"{name.strip()!r} is given twice")
        out[name.strip()] = target.strip()
    return out


def pairs_parse(text: str | None, option: str) -> dict[str, str]:
    """``'A=x,B=y'`` → ``{"a": "x", "b": "y"}`` (keys in lower case)."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"{option}: {part.strip()!r} is not NAME=VALUE")
        key, value = part.split("=", 1)
        out[key.strip().lower()] = value.strip()
    return out


def defaults_check(defaults: Mapping[str, str] | None, stages: Mapping[str, str]) -> dict[str, str]:
    """``--default`` FIELD → VALUE pairs, FIELD as ``--map`` takes it (a key, a plain label or a
    synonym: ``"Lost reason"``), to field key → value. ``stages``: the ladder's stage key →
    name. Raises ValueError naming the field and what is wrong with it or its value."""
    out: dict[str, str] = {}
    for given, raw in (defaults or {}).items():
        key = field_key(given, stages)
        if key is None or key not in DEFAULTABLE:
            raise ValueError(
                f"--default: {given.strip()!r} is not a field that takes a default (fields: "
                + ", ".join(f"{k} ({LABELS[k]})" for k in DEFAULTABLE)
                + ")"
            )
        value = (raw or "").strip()
        what = f"--default {key} ({LABELS[key]})"
        if not value:
            raise ValueError(f"{what}: the value is empty")
        if "\x00" in value:
            raise ValueError(f"{what}: contains a NUL character")
        limit = _TEXT_LIMITS.get(key, 200)
        if len(value) > limit:
            raise ValueError(f"{what}: longer than {limit} characters")
        if key == "revenue":
            parsed = money_parse(value)
            if isinstance(parsed, str):
                raise ValueError(f"{what}: {parsed}")
        elif key == "created":
            at = date_reader(date_format_parse("YYYY-MM-DD"), _zone())(value)
            if at is None:
                raise ValueError(f"{what}: {_short(value)} is not a date in YYYY-MM-DD")
            if at.year < EARLIEST_YEAR or at > timezone.now() + CLOCK_SKEW:
                raise ValueError(
                    f"{what}: {_short(value)} is before {EARLIEST_YEAR} or in the future"
                )
        elif key == "stage":
            names = {k.lower() for k in stages} | {n.lower() for n in stages.values()}
            if value.lower() not in names:
                raise ValueError(
                    f"{what}: {_short(value)} is not a stage of the ladder "
                    f"(stages: {', '.join(stages)})"
                )
        if key in out:
            raise ValueError(f"{what}: given twice")
        out[key] = value
    return out


def defaults_parse(
    organization: Organization, defaults: Mapping[str, str] | None
) -> dict[str, str]:
    """:func:`defaults_check` with the organization's ladder."""
    ladder = Stage.objects.for_org(organization).order_by("position", "id")
    return defaults_check(defaults, {s.key: s.name for s in ladder})


def missing_dates_check(value: str | None) -> str:
    chosen = (value or "error").strip().lower()
    if chosen not in MISSING_DATES:
        raise ValueError(f"--missing-dates: {value!r} is not one of {', '.join(MISSING_DATES)}")
    return chosen


# --- the engine -------------------------------------------------------------------------


class _Parsed(NamedTuple):
    """One valid row, compact enough to keep a batch in memory.

    Once kept for the write (:meth:`_LeadImport.ready`), its amounts and datetimes are the
    database's values (SQLite: text), which are cheap to spill and to insert.
    """

    line: int
    external_id: str
    name: str
    company: str
    email: str
    phone: str
    notes: str
    source: str  # lower case: key of the channel lookup
    campaign: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    owner: str  # lower case: key of the owner lookup, "" for none
    sourced_by: str  # lower case: key of the member lookup, "" for none
    value: Any  # Decimal | None
    first_touch: Any  # datetime
    history: list[tuple[int, Any]]  # (stage pk, at: datetime)
    revenue: Any  # Decimal | None
    cost: Any  # Decimal | None
    lost_reason: str  # lower case: key of the lost reason lookup
    facts: Any = None  # dict[str, str] of the mapped fact columns, or None (no facts)


class _Spill:
    """The checked rows, kept for the write: in memory up to KEEP_ROWS, then in a temp file."""

    def __init__(
        self,
        ready: Callable[[Any], tuple[Any, ...]] | None,
        make: Callable[[tuple[Any, ...]], Any] = _Parsed._make,
    ) -> None:
        #: the row as the write needs it; None keeps nothing (a dry run)
        self.ready = ready
        self.make = make
        self.rows: list[tuple[Any, ...]] = []
        self.file: IO[bytes] | None = None

    def add(self, row: Any) -> None:
        if self.ready is None:
            return
        self.rows.append(self.ready(row))
        if len(self.rows) >= KEEP_ROWS:
            if self.file is None:
                # closed by close(), after the write or on failure
                self.file = tempfile.TemporaryFile()  # noqa: SIM115
            pickle.dump(self.rows, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self.rows = []

    def batches(self) -> Iterator[list[Any]]:
        make = self.make
        if self.file is not None:
            self.file.seek(0)
            while True:
                try:
                    chunk = pickle.load(self.file)  # our own file, written just above
                except EOFError:
                    break
                yield [make(t) for t in chunk]
        if self.rows:
            yield [make(t) for t in self.rows]

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        self.rows = []


class _LeadImport:
    def __init__(
        self,
        *,
        organization: Organization,
        table: Table,
        preset: Preset,
        mapping: dict[str, str],
        date_format: str | None,
        stage_map: dict[str, str],
        owner_map: dict[str, str],
        new_members: bool,
        result: ImportResult,
        defaults: Mapping[str, str] | None = None,
        missing_dates: str = "error",
    ) -> None:
        self.org = organization
        self.table = table
        self.preset = preset
        self.result = result
        self.new_members_allowed = new_members
        self.zone = _zone()
        self.now = timezone.now()
        self.latest = self.now + CLOCK_SKEW
        self.ladder = list(Stage.objects.for_org(organization).order_by("position", "id"))
        self.by_key = {s.key: s for s in self.ladder}
        open_stages = [s for s in self.ladder if s.kind == StageKind.OPEN]
        if not open_stages:
            raise FileProblem("the ladder has no open stage")
        default = self.by_key.get(preset.stage_default) if preset.stage_default else None
        self.start_stage = default or open_stages[0]
        self.won_stage = next((s for s in self.ladder if s.kind == StageKind.WON), None)
        self.lost_stage = next((s for s in self.ladder if s.kind == StageKind.LOST), None)
        gate = next((s for s in open_stages if s.requires_qualification), None)
        has_criteria = (
            QualificationCriterion.objects.for_org(organization)
            .filter(active=True, required=True)
            .exists()
        )
        self.gate_position = gate.position if gate is not None and has_criteria else None
        self._stages_lookup(stage_map)
        self.missing_dates = missing_dates_check(missing_dates)
        self.defaults = defaults_check(defaults, {k: s.name for k, s in self.by_key.items()})
        given = self.defaults
        #: the preset's defaults, a --default overriding each
        self.source_default = given.get("source") or preset.source_default
        self.lost_reason_default = given.get("lost_reason") or preset.lost_reason_default
        self.revenue_given: Decimal | None = None
        if "revenue" in given:
            self.revenue_given = Decimal(money_parse(given["revenue"]))
        self.revenue_default = (
            self.revenue_given if self.revenue_given is not None else preset.revenue_default
        )
        #: the stage of rows without one (None: the start stage)
        self.stage_given = self.stage_lookup[given["stage"].lower()] if "stage" in given else None
        self.created_given = (
            date_reader(date_format_parse("YYYY-MM-DD"), self.zone)(given["created"])
            if "created" in given
            else None
        )
        #: the text fields filled where the row has no value
        self.text_defaults = [
            (k, v)
            for k, v in given.items()
            if k in _TEXT_LIMITS and k not in ("source", "lost_reason")
        ]
        self._columns_resolve(mapping)
        self.formats: dict[str, DateFormat] = {}
        self.readers: dict[str, Callable[[str], datetime | None]] = {}
        #: the date columns the check watches (when the formats came from a sample)
        self.watching: list[tuple[str, int]] | None = None
        self.watched: dict[str, ColumnDates] = {}
        self.given_format = date_format_parse(date_format) if date_format else None
        #: the date fields none of whose values read in any format
        self.unread: set[str] = set()
        self._lookups_load(owner_map)
        self.rejected_lines = bytearray()

    # --- set-up -----------------------------------------------------------------------

    def _stages_lookup(self, stage_map: dict[str, str]) -> None:
        lookup: dict[str, Stage] = {}
        for stage in self.ladder:
            lookup[stage.key.lower()] = stage
            lookup[stage.name.lower()] = stage
        for name, key in {**self.preset.stage_map, **stage_map}.items():
            stage = self.by_key.get(key.strip().lower()) or lookup.get(key.strip().lower())
            if stage is None:
                if name in stage_map:
                    raise FileProblem(
                        f"--stage-map: {key!r} is not a stage of the ladder "
                        f"(stages: {', '.join(self.by_key)})"
                    )
                continue  # a preset's default for a stage this ladder does not have
            lookup[name.strip().lower()] = stage
        self.stage_lookup = lookup

    def _columns_resolve(self, mapping: dict[str, str]) -> None:
        header = self.table.header
        lower = {h.lower(): i for i, h in reversed(list(enumerate(header)))}
        stage_fields = {f"{k}_at": s for k, s in self.by_key.items()}
        stage_names = {k: s.name for k, s in self.by_key.items()}
        #: column index → its fields (a column may feed several: "created,lead_at")
        explicit: dict[int, list[str]] = {}
        for column, wanted in mapping.items():
            index = lower.get(column.strip().lower())
            if index is None:
                raise FileProblem(
                    f"--map: the file has no column {column!r} (columns: {', '.join(header)})"
                )
            explicit[index] = self._targets(column, wanted, stage_names)
        guessed = self._columns_guess(header, {i: t[0] for i, t in explicit.items()})
        taken = {t for targets in explicit.values() for t in targets}
        fields: dict[str, list[int]] = {}
        #: (fact name, column index) of the columns kept as lead facts
        facts: list[tuple[str, int]] = []
        for i, name in enumerate(header):
            chosen = explicit.get(i)
            if chosen is None:
                target = guessed.get(i)
                chosen = [target] if target is not None and target not in taken else []
            chosen = [t for t in chosen if t != IGNORE]
            if not chosen or not name:
                if name:
                    self.result.ignored_columns.append(name)
                continue
            used = []
            for target in chosen:
                if target.startswith(FACT_PREFIX):
                    facts.append((target[len(FACT_PREFIX) :], i))
                elif target.endswith("_at") and target not in (
                    "won_at",
                    "lost_at",
                    "closed_at",
                    *stage_fields,
                ):
                    continue
                else:
                    fields.setdefault(target, []).append(i)
                used.append(target)
            if not used:
                self.result.ignored_columns.append(name)
                continue
            self.result.columns[name] = ",".join(used)
        self.fields = fields
        self.closed_i = fields["closed_at"][0] if "closed_at" in fields else -1
        self.created_column = header[fields["created"][0]] if "created" in fields else "created"
        names_seen: dict[str, int] = {}
        for fact, i in facts:
            if fact in names_seen:
                raise FileProblem(
                    f"--map: the columns {header[names_seen[fact]]!r} and {header[i]!r} are both "
                    f"kept as the fact {fact!r}"
                )
            names_seen[fact] = i
        self.facts_spec = facts
        self.width = len(header)
        #: (field, column index, longest value) of the text fields, in the file's order
        self.text_spec = [
            (name, i, limit) for name, limit in _TEXT_LIMITS.items() for i in fields.get(name, ())
        ]
        names = set(fields)
        if not names & {"name", "company", "first_name", "last_name"} and not (
            self.preset.name_from_id and "external_id" in names
        ):
            raise FileProblem(
                f"missing required column: {LABELS['name']} (or {LABELS['company']}, or "
                f"{LABELS['first_name']} and {LABELS['last_name']})"
            )
        if "source" not in names and not self.source_default:
            raise FileProblem(
                f"missing required column: {LABELS['source']} (or give every row one with "
                "--default source=…)"
            )
        self.date_fields = [f for f in fields if f == "created" or f.endswith("_at")]
        self.stage_dates: list[tuple[str, Stage]] = []
        for f in self.date_fields:
            if f == "closed_at":
                continue  # the won or the lost date, by the row's stage (_history)
            if f == "won_at":
                stage = self.won_stage
            elif f == "lost_at":
                stage = self.lost_stage
            else:
                stage = stage_fields.get(f)
            if stage is not None:
                self.stage_dates.append((f, stage))

    def _targets(self, column: str, wanted: str, stages: dict[str, str]) -> list[str]:
        """The fields ``--map COLUMN=WANTED`` sends a column to: one, or several separated by
        commas (``created,lead_at``); a lead fact ``fact:NAME``; ``-`` ignores it."""
        whole = field_key(wanted, stages)
        if whole is not None and whole.startswith(FACT_PREFIX) and "," in whole:
            whole = None  # "fact:a,b": a fact and a field (a fact's name has no comma)
        texts = [wanted] if whole is not None else [p for p in wanted.split(",") if p.strip()]
        parts: list[str | None] = (
            [whole] if whole is not None else [field_key(p, stages) for p in texts]
        )
        out: list[str] = []
        for text, chosen in zip(texts, parts, strict=True):
            if chosen is None:
                stage_words = ", ".join(stage_label(k, stages) for k in self.by_key)
                raise FileProblem(
                    f"--map {column.strip()}: {text.strip()!r} is not a field (fields: "
                    f"{', '.join(LABELS[k] for k in FIELDS)}, {stage_words}, fact:NAME to "
                    "keep the column as a lead fact, or - to ignore; several fields "
                    "separated by commas)"
                )
            if chosen.startswith(FACT_PREFIX):
                fact = chosen[len(FACT_PREFIX) :]
                if len(fact) > FACT_NAME_MAX:
                    raise FileProblem(
                        f"--map {column.strip()}: the fact's name {_short(fact)} is longer "
                        f"than {FACT_NAME_MAX} characters"
                    )
            if chosen in out:
                continue
            if chosen != IGNORE and len(parts) > 1 and IGNORE in parts:
                raise FileProblem(f"--map {column.strip()}: - (ignore) cannot go with fields")
            out.append(chosen)
        if not out:
            raise FileProblem(f"--map {column.strip()}: no field given")
        return out

    def _columns_guess(self, header: list[str], explicit: dict[int, str]) -> dict[int, str]:
        """The fields of the columns not mapped by hand: the preset's names first, then
        the headers' words (:mod:`keepscore.imports.headers`) for fields still free."""
        return columns_guess(header, self.preset, list(self.by_key), explicit)

    def _column_name(self, field_name: str) -> str:
        return self.table.header[self.fields[field_name][0]]

    def _field_column(self, field_name: str) -> str:
        """The file's column of a field, or (not in the file) the field in plain words."""
        if field_name in self.fields:
            return self._column_name(field_name)
        return LABELS.get(field_name, field_name)

    def _lookups_load(self, owner_map: dict[str, str]) -> None:
        channels: dict[str, int] = {}
        self.channel_keys: set[str] = set()
        for pk, key, name in Channel.objects.for_org(self.org).values_list("pk", "key", "name"):
            channels[key.lower()] = pk
            channels.setdefault(name.lower(), pk)
            self.channel_keys.add(key)
        for name, target in self.preset.source_map.items():
            pk = channels.get(target.lower())
            if pk is not None:
                channels.setdefault(name, pk)
        self.channels = channels
        self.new_channels: dict[str, str] = {}  # lookup key → name to create
        members: dict[str, int] = {}
        for pk, email, first, last in Membership.objects.filter(organization=self.org).values_list(
            "pk", "user__email", "user__first_name", "user__last_name"
        ):
            members[email.lower()] = pk
            full = f"{first} {last}".strip().lower()
            if full:
                members.setdefault(full, pk)
        self.members = members
        self.owner_map = owner_map
        self.new_owners: dict[str, tuple[str, str]] = {}  # key → (name, email)
        #: the new members' roles: sales for owners, marketing for who sourced leads
        self.new_roles: dict[str, set[str]] = {}
        reasons: dict[str, int] = {}
        for pk, name in LostReason.objects.for_org(self.org).values_list("pk", "name"):
            reasons[name.lower()] = pk
        self.reasons = reasons
        self.new_reasons: dict[str, str] = {}

    # --- pass 0: date formats ------------------------------------------------------------

    def dates_detect(self) -> None:
        """Settle the date formats from the first :data:`DATE_SAMPLE` rows.

        When the file is longer, those formats are provisional: the check watches every
        value of the date columns (:meth:`dates_confirm`), so the formats are still settled
        from the whole column, without reading the file once more just for them.
        """
        columns = [(f, self.fields[f][0]) for f in self.date_fields]
        watchers = self._date_watchers(columns)
        complete = True
        if self.given_format is None and columns:

            def consume(rows: Iterator[tuple[int, list[str]]]) -> None:
                nonlocal complete, watchers
                watchers = self._date_watchers(columns)  # afresh: a changed encoding
                complete = True
                for n, (_line, values) in enumerate(rows):
                    if n >= DATE_SAMPLE:
                        complete = False
                        break
                    self._dates_observe(columns, watchers, values)

            rows_with_retry(self.table, consume)
        formats, labels, problems = self._dates_settle(watchers)
        if complete:
            self.result.problems.extend(problems)
        elif problems:
            # not settled by the sample (e.g. ambiguous so far): read the whole column first
            columns_all = columns

            def consume_all(rows: Iterator[tuple[int, list[str]]]) -> None:
                nonlocal watchers
                watchers = self._date_watchers(columns_all)
                for _line, values in rows:
                    self._dates_observe(columns_all, watchers, values)

            rows_with_retry(self.table, consume_all)
            formats, labels, problems = self._dates_settle(watchers)
            self.result.problems.extend(problems)
        else:
            self.watching = columns
        self._dates_use(formats, labels)

    def dates_confirm(self) -> bool:
        """After a check that watched the dates: whether its formats were the right ones.

        False: the whole columns settle on other formats than the sample did; the formats
        are now those and the check must run again. A date problem (ambiguous, mixed) is
        reported as by :meth:`dates_detect`, and the check's rows are forgotten.
        """
        watchers, self.watched, self.watching = self.watched, {}, None
        if not watchers:
            return True
        formats, labels, problems = self._dates_settle(watchers)
        same = formats == self.formats
        self._dates_use(formats, labels)
        if problems:
            result = self.result
            result.problems.extend(problems)
            result.rows = result.rejected = result.errors_total = result.duplicates = 0
            result.warnings_total = 0
            result.updated = 0
            result.errors.clear()
            result.duplicate_rows.clear()
            result.warnings.clear()
            self.rejected_lines[:] = b""
            return True
        return same

    def _date_watchers(self, columns: list[tuple[str, int]]) -> dict[str, ColumnDates]:
        header = self.table.header
        return {f: ColumnDates(column=header[i], given=self.given_format) for f, i in columns}

    @staticmethod
    def _dates_observe(
        columns: list[tuple[str, int]], watchers: dict[str, ColumnDates], values: list[str]
    ) -> None:
        for f, i in columns:
            if i < len(values):
                v = values[i]
                if v and not v.isspace() and len(v) < 100:
                    watchers[f].observe(v)

    def _dates_settle(
        self, watchers: dict[str, ColumnDates]
    ) -> tuple[dict[str, DateFormat], dict[str, str], list[str]]:
        """(format of each date field, label of each column, problems)."""
        formats: dict[str, DateFormat] = {}
        labels: dict[str, str] = {}
        problems: list[str] = []
        self.unread = set()
        for f, watcher in watchers.items():
            settled = watcher.settle()
            if isinstance(settled, str):
                problems.append(settled)
            elif settled is not None:
                formats[f] = settled
                labels[watcher.column] = settled.label
            else:
                formats[f] = LABEL_ISO
                self.unread.add(f)
        return formats, labels, problems

    def _dates_use(self, formats: dict[str, DateFormat], labels: dict[str, str]) -> None:
        self.formats = formats
        self.result.date_formats.clear()
        self.result.date_formats.update(labels)
        self.readers = {f: date_reader(fmt, self.zone) for f, fmt in formats.items()}
        self.matchers = {f: date_matcher(fmt, self.zone) for f, fmt in formats.items()}

    # --- one row -------------------------------------------------------------------------

    def _text(self, values: list[str], name: str, errors: list[tuple[str, str]]) -> str:
        idxs = self.fields.get(name)
        if idxs is None:
            return ""
        for i in idxs:
            if i < len(values):
                v = values[i].strip()
                if v:
                    limit = _TEXT_LIMITS.get(name, 200)
                    if len(v) > limit:
                        errors.append((self.table.header[i], f"longer than {limit} characters"))
                        return ""
                    return v
        return ""

    def _date(self, values: list[str], name: str, errors: list[tuple[str, str]]) -> datetime | None:
        i = self.fields[name][0]
        v = values[i].strip() if i < len(values) else ""
        if not v:
            return None
        at = self.readers[name](v)
        if at is None:
            if name in self.unread:  # no value of the column reads in any format
                tried = ", ".join(f.label for f in CANDIDATES)
                reason = f"{_short(v)} is not a date in any format tried ({tried})"
            else:
                reason = f"{_short(v)} is not a date in {self.formats[name].label} [HH:MM[:SS]]"
            errors.append((self.table.header[i], reason))
            return None
        if at > self.latest:
            errors.append((self.table.header[i], f"{_short(v)} is in the future"))
            return None
        if at.year < EARLIEST_YEAR:
            errors.append((self.table.header[i], f"{_short(v)} is before {EARLIEST_YEAR}"))
            return None
        return at

    def _money(self, values: list[str], name: str, errors: list[tuple[str, str]]) -> Any:
        idxs = self.fields.get(name)
        if idxs is None:
            return None
        i = idxs[0]
        v = values[i].strip() if i < len(values) else ""
        if not v:
            return None
        parsed = money_parse(v)
        if isinstance(parsed, str):
            errors.append((self.table.header[i], parsed))
            return None
        return parsed

    def row_parse(self, line: int, values: list[str]) -> _Parsed | list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        if len(values) > self.width and any(v.strip() for v in values[self.width :]):
            errors.append(("", f"{len(values)} values but the header has {self.width} columns"))
        if "\x00" in "".join(values):
            errors.append(("", "contains a NUL character"))
            return errors
        got: dict[str, str] = {}
        width = len(values)
        header = self.table.header
        for field_name, i, limit in self.text_spec:
            if i < width:
                v = values[i].strip()
                if v and field_name not in got:
                    if len(v) > limit:
                        errors.append((header[i], f"longer than {limit} characters"))
                        v = ""
                    got[field_name] = v
        for field_name, v in self.text_defaults:
            if not got.get(field_name):
                got[field_name] = v
        external_id = got.get("external_id", "")
        before = 0 if "name" in got else len(errors)
        name = got.get("name", "")
        company = got.get("company", "")
        if not name and ("first_name" in self.fields or "last_name" in self.fields):
            first, last = got.get("first_name", ""), got.get("last_name", "")
            name = f"{first} {last}".strip()
        if not name:
            name = company
        if not name and self.preset.name_from_id and external_id:
            name = f"{self.preset.name_from_id}{external_id[:8]}"
        if not name and len(errors) == before:
            errors.append((self._field_column("name"), "a lead needs a name or a company"))
        email = got.get("email", "").lower()
        if email and not _EMAIL.fullmatch(email):
            errors.append((self._column_name("email"), f"{_short(email)} is not an email address"))
        phone = got.get("phone", "")
        source = got.get("source", "") or self.source_default
        if not source:
            errors.append((self._column_name("source"), "a lead needs its source"))
        else:
            key = source.lower()
            source = key if key in self.channels else self._channel(source, errors)
        owner = got.get("owner", "")
        if owner:
            owner = self._owner(owner, errors)
        sourced_by = got.get("sourced_by", "")
        if sourced_by:
            sourced_by = self._owner(sourced_by, errors, field="sourced_by")
        fields = self.fields
        value = self._money(values, "value", errors) if "value" in fields else None
        revenue = self._money(values, "revenue", errors) if "revenue" in fields else None
        cost = self._money(values, "cost", errors) if "cost" in fields else None
        created = self._date(values, "created", errors) if "created" in fields else None
        history, first_touch, _dateless = self._history(values, created, errors)
        lost_reason = ""
        won = len(history) > 1 and any(s.kind == StageKind.WON for s, _ in history[1:])
        if won and revenue is None and "revenue" in fields:
            # the file has a revenue column: its empty cell is not a value's or a preset's
            revenue = self.revenue_given
            column = self._column_name("revenue")
            if revenue is None and not any(c == column for c, _ in errors):
                errors.append(
                    (column, "a won lead needs its revenue: the cell is empty (or give --default)")
                )
        elif won and revenue is None:
            revenue = value if value is not None else self.revenue_default
            if revenue is None:
                errors.append(
                    (
                        self._field_column("revenue"),
                        f"a won lead needs its revenue ({LABELS['revenue']} or {LABELS['value']})",
                    )
                )
        if len(history) > 1 and any(s.kind == StageKind.LOST for s, _ in history[1:]):
            lost_reason = got.get("lost_reason", "") or self.lost_reason_default
            if not lost_reason:
                errors.append(
                    (
                        self._field_column("lost_reason"),
                        "a lost lead needs its lost reason (or give --default lost_reason=…)",
                    )
                )
            else:
                lost_reason = self._reason(lost_reason)
        facts: dict[str, str] | None = None
        if self.facts_spec:
            facts = {}
            for fact, i in self.facts_spec:
                v = values[i].strip() if i < width else ""
                if not v:
                    continue
                if len(v) > FACT_VALUE_MAX:
                    errors.append((header[i], f"longer than {FACT_VALUE_MAX} characters"))
                    continue
                facts[fact] = v
        notes = got.get("notes", "")
        campaign = got.get("campaign", "")
        utm = [got.get(f, "") for f in ("utm_source", "utm_medium", "utm_campaign")]
        if errors:
            return errors
        # dateless: first_touch is self.now, the object; the check warns of it (not of a
        # duplicate's, which is not imported)
        return _Parsed(
            line,
            external_id,
            name,
            company,
            email,
            phone,
            notes,
            source,
            campaign,
            utm[0],
            utm[1],
            utm[2],
            owner,
            sourced_by,
            value,
            first_touch,
            [(stage.pk, at) for stage, at in history],
            revenue,
            cost,
            lost_reason,
            facts or None,
        )

    def fast_path_possible(self) -> bool:
        """Whether the usual row of this mapping is read by :meth:`row_parser`'s one pass (and
        so can be checked over whole columns): one column per text field, status and stage,
        a date of first contact, no stage or close dates, no facts, no text or stage
        defaults, and at least one text field."""
        fields = self.fields
        return (
            all(len(fields.get(name, ())) <= 1 for name in (*_TEXT_LIMITS, "status", "stage"))
            and not self.stage_dates
            and "created" in fields  # every row's first touch is the slow path's
            and self.closed_i < 0
            and not self.facts_spec
            and not self.text_defaults
            and self.stage_given is None
            and any(name in fields for name in _TEXT_LIMITS)
        )

    def stage_planner(self) -> Callable[[str, str], StagePlan | None]:
        """The fast path's reading of a row's status and stage cells (as they are in the
        file): the plan of its history (see :data:`StagePlan`), or None when the row needs
        :meth:`row_parse` (a cell too long, a stage not on the ladder)."""
        start = self.start_stage
        start_pk = start.pk

        def plan(final: Stage) -> StagePlan:
            """The plan of the history ending at ``final`` (as :meth:`_history`)."""
            if final.kind == StageKind.OPEN:
                return final.pk, False, False, False
            if final is start:
                return start_pk, False, False, False
            return final.pk, True, final.kind == StageKind.WON, final.kind == StageKind.LOST

        plans = {key: plan(stage) for key, stage in self.stage_lookup.items()}
        won_plan = plan(self.won_stage) if self.won_stage is not None else None
        lost_plan = plan(self.lost_stage) if self.lost_stage is not None else None
        start_plan = plan(start)

        def plan_of(status: str, stage: str) -> StagePlan | None:
            chosen: StagePlan | None = None
            if status:
                status = status.strip()
                if len(status) > 200:
                    return None
                word = status_word(status)
                if word == "won":
                    chosen = won_plan
                elif word == "lost":
                    chosen = lost_plan
            if chosen is None and stage:
                raw = stage.strip()
                if len(raw) > 200:
                    return None
                if raw:
                    return plans.get(raw.lower())
            return chosen or start_plan

        return plan_of

    def row_parser(
        self, watch: list[tuple[int, Callable[[str, Any], bool]]], watch_created: bool
    ) -> Callable[[int, list[str]], _Parsed | list[tuple[str, str]]]:
        """:meth:`row_parse` for this mapping, built once, with the check's date watching.

        ``watch``: (column, observe_match) of the date columns the check watches (as
        :meth:`_dates_observe`); ``watch_created``: whether the created column is among them
        (its match is then shared with the parse). The usual row (as wide as the header, one
        column per field, no stage dates, valid) is read in one pass from precomputed
        indexes; any other row, and any row with an error, goes to :meth:`row_parse`, which
        gives the same result and reports the errors in their order.
        """
        slow = self.row_parse
        fields = self.fields
        width = self.width

        def watch_only(line: int, values: list[str]) -> _Parsed | list[tuple[str, str]]:
            n = len(values)
            for i, observe in watch:  # as _dates_observe
                if i < n:
                    v = values[i]
                    if v and not v.isspace() and len(v) < 100:
                        observe(v, value_match(v))
            return slow(line, values)

        if not self.fast_path_possible():
            return watch_only

        # the text fields of the file (their columns, their limits), then one slot per text
        # field in _TEXT_LIMITS order, a field not mapped reading the "" appended after them
        names = list(_TEXT_LIMITS)
        present = [n for n in names if n in fields]
        columns = [fields[n][0] for n in present]
        limits = [_TEXT_LIMITS[n] for n in present]
        shortest = min(limits, default=0)
        text_get: Callable[[list[str]], Any] = (
            itemgetter(*columns) if len(columns) > 1 else lambda values: [values[columns[0]]]
        )
        slots = itemgetter(*[present.index(n) if n in fields else len(present) for n in names])
        first_last = "first_name" in fields or "last_name" in fields
        name_from_id = self.preset.name_from_id
        source_default = self.source_default
        revenue_default = self.revenue_default
        revenue_given = self.revenue_given
        lost_reason_default = self.lost_reason_default
        channels = self.channels
        channel = self._channel
        owner_of = self._owner
        reason_of = self._reason
        email_ok = _EMAIL.fullmatch
        plain_money = _PLAIN_MONEY.fullmatch
        cent = _CENT
        money_i = [fields[f][0] if f in fields else -1 for f in ("value", "revenue", "cost")]
        value_i, revenue_i, cost_i = money_i
        created_i = fields["created"][0]
        read_created = self.readers.get("created")
        match_created = self.matchers.get("created")
        watch_others = [(i, o) for i, o in watch if not (watch_created and i == created_i)]
        observe_created = next(o for i, o in watch if i == created_i) if watch_created else None
        latest = self.latest
        zone = self.zone
        # a date (in the zone) before this is not in the future, whatever its offset (< 24 h):
        # compared at once, as both have the same tzinfo, where `at > latest` asks for offsets
        cutoff = latest.astimezone(UTC).replace(tzinfo=None) - timedelta(days=2)
        past = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=zone)
        earliest_year = EARLIEST_YEAR
        status_i = fields["status"][0] if "status" in fields else -1
        stage_i = fields["stage"][0] if "stage" in fields else -1
        plan_of = self.stage_planner()
        start_pk = self.start_stage.pk
        new = tuple.__new__

        def money(v: str) -> Any:
            if plain_money(v):
                return Decimal(v).quantize(cent)
            parsed = money_parse(v)
            return None if isinstance(parsed, str) else parsed

        def parse(line: int, values: list[str]) -> _Parsed | list[tuple[str, str]]:
            n = len(values)
            for i, observe in watch_others:  # as _dates_observe
                if i < n:
                    v = values[i]
                    if v and not v.isspace() and len(v) < 100:
                        observe(v, value_match(v))
            created_raw = ""
            created_match = None
            if observe_created is not None and created_i < n:
                v = values[created_i]
                if v and not v.isspace() and len(v) < 100:
                    created_raw = v
                    created_match = value_match(v)
                    observe_created(v, created_match)
            if n != width or "\x00" in "".join(values):
                return slow(line, values)
            got = [v.strip() for v in text_get(values)]
            if max(map(len, got), default=0) > shortest:
                for v, limit in zip(got, limits, strict=True):
                    if len(v) > limit:
                        return slow(line, values)
            got.append("")
            (
                external_id,
                name,
                company,
                email,
                phone,
                notes,
                campaign,
                utm_source,
                utm_medium,
                utm_campaign,
                owner,
                sourced_by,
                source,
                reason,
                first,
                last,
            ) = slots(got)
            if not name and first_last:
                name = f"{first} {last}".strip()
            if not name:
                name = company
            if not name and name_from_id and external_id:
                name = f"{name_from_id}{external_id[:8]}"
            if not name:
                return slow(line, values)
            email = email.lower()
            if email and not email_ok(email):
                return slow(line, values)
            source = source or source_default
            if not source:
                return slow(line, values)
            key = source.lower()
            if key in channels:
                source = key
            else:
                errors: list[tuple[str, str]] = []
                source = channel(source, errors)
                if errors:
                    return slow(line, values)
            if owner:
                errors = []
                owner = owner_of(owner, errors)
                if errors:
                    return slow(line, values)
            if sourced_by:
                errors = []
                sourced_by = owner_of(sourced_by, errors, field="sourced_by")
                if errors:
                    return slow(line, values)
            value = revenue = cost = None
            if value_i >= 0:
                v = values[value_i].strip()
                if v:
                    value = money(v)
                    if value is None:
                        return slow(line, values)
            if revenue_i >= 0:
                v = values[revenue_i].strip()
                if v:
                    revenue = money(v)
                    if revenue is None:
                        return slow(line, values)
            if cost_i >= 0:
                v = values[cost_i].strip()
                if v:
                    cost = money(v)
                    if cost is None:
                        return slow(line, values)
            v = values[created_i].strip()
            if not v:
                return slow(line, values)  # no date of first contact
            if created_match is not None and len(v) == len(created_raw):
                at = match_created(created_match)  # type: ignore[misc]
            else:
                at = read_created(v)  # type: ignore[misc]
            if (
                at is None
                or (not (at.tzinfo is zone and at < past) and at > latest)
                or at.year < earliest_year
            ):
                return slow(line, values)
            first_touch = at
            chosen = plan_of(
                values[status_i] if status_i >= 0 else "", values[stage_i] if stage_i >= 0 else ""
            )
            if chosen is None:
                return slow(line, values)
            pk, two, won, lost = chosen
            history: list[tuple[int, Any]]
            lost_reason = ""
            if two:
                history = [(start_pk, first_touch), (pk, first_touch)]
                if won and revenue is None:
                    if revenue_i >= 0:
                        revenue = revenue_given
                    else:
                        revenue = value if value is not None else revenue_default
                    if revenue is None:
                        return slow(line, values)
                elif lost:
                    lost_reason = reason or lost_reason_default
                    if not lost_reason:
                        return slow(line, values)
                    lost_reason = reason_of(lost_reason)
            else:
                history = [(pk, first_touch)]
            return new(
                _Parsed,
                (
                    line,
                    external_id,
                    name,
                    company,
                    email,
                    phone,
                    notes,
                    source,
                    campaign,
                    utm_source,
                    utm_medium,
                    utm_campaign,
                    owner,
                    sourced_by,
                    value,
                    first_touch,
                    history,
                    revenue,
                    cost,
                    lost_reason,
                    None,  # facts: none on the fast path
                ),
            )

        return parse

    def _stage(self, values: list[str], errors: list[tuple[str, str]]) -> Stage | None:
        status = ""
        if "status" in self.fields:
            status = status_word(self._text(values, "status", errors))
        if status in ("won", "lost"):
            stage = self.won_stage if status == "won" else self.lost_stage
            if stage is not None:
                return stage
        raw = self._text(values, "stage", errors) if "stage" in self.fields else ""
        if not raw:
            return None
        stage = self.stage_lookup.get(raw.lower())
        if stage is None:
            errors.append(
                (
                    self._column_name("stage"),
                    f"{_short(raw)} is not a stage of the ladder; map it with --stage-map "
                    f"(stages: {', '.join(self.by_key)})",
                )
            )
        return stage

    def _history(
        self, values: list[str], created: datetime | None, errors: list[tuple[str, str]]
    ) -> tuple[list[tuple[Stage, datetime]], datetime, bool]:
        """(the row's stage changes, its first touch, whether that is the moment of import).

        The first touch is the created date; without one, the earliest stage date, else the
        ``--default created`` date, else (``missing_dates="now"``) the moment of the import,
        else the row is an error. The close date is the won date of a row whose stage is won
        and the lost date of one whose stage is lost. A row cannot be both won and lost.
        """
        final = self._stage(values, errors)
        if final is None:
            final = self.stage_given
        if not self.stage_dates and self.closed_i < 0 and created is not None:
            # the file has no stage dates: the same as below, sooner
            if final is not None and final.kind == StageKind.OPEN:
                return [(final, created)], created, False
            if final is not None and final is not self.start_stage:
                return [(self.start_stage, created), (final, created)], created, False
            return [(self.start_stage, created)], created, False
        events: list[tuple[datetime, int, Stage]] = []
        won_column = lost_column = ""  # the columns that gave a won / a lost date
        for name, stage in self.stage_dates:
            at = self._date(values, name, errors)
            if at is None:
                continue
            column = self._column_name(name)
            if created is not None and at < created:
                errors.append((column, f"is before the lead's first touch ({LABELS['created']})"))
                continue
            if stage.kind == StageKind.WON:
                won_column = won_column or column
            elif stage.kind == StageKind.LOST:
                lost_column = lost_column or column
            events.append((at, stage.position, stage))
        if self.closed_i >= 0:
            at = self._date(values, "closed_at", errors)
            column = self._column_name("closed_at")
            if at is None:
                pass
            elif final is None or final.kind == StageKind.OPEN:
                stage_name = final.name if final is not None else self.start_stage.name
                errors.append(
                    (
                        column,
                        f"an open deal has no close date (the row's stage is {stage_name}: "
                        "a close date is the won date of a won row, the lost date of a lost one)",
                    )
                )
            elif created is not None and at < created:
                errors.append((column, "is before the lead's first touch (created)"))
            else:
                if final.kind == StageKind.WON:
                    won_column = won_column or column
                else:
                    lost_column = lost_column or column
                events.append((at, final.position, final))
        closed_kind = final.kind if final is not None else StageKind.OPEN
        if won_column and closed_kind == StageKind.LOST:
            assert final is not None
            errors.append(
                (won_column, f"a lost deal has no won date (the row's stage is {final.name})")
            )
        elif lost_column and closed_kind == StageKind.WON:
            assert final is not None
            errors.append(
                (lost_column, f"a won deal has no lost date (the row's stage is {final.name})")
            )
        elif won_column and lost_column:
            errors.append(
                (
                    lost_column,
                    f"a deal is won or lost, not both: the row has a won date ({won_column}) "
                    f"and a lost date ({lost_column})",
                )
            )
        if (won_column and lost_column) or (final is not None and final.kind != StageKind.OPEN):
            # the row is rejected: its history leaves out what contradicts it (so its other
            # checks, revenue and lost reason, are of the deal it says it is)
            keep = final.kind if final is not None and final.kind != StageKind.OPEN else None
            events = [e for e in events if e[2].kind in (StageKind.OPEN, keep)]
        events.sort(key=lambda e: (e[0], e[1]))
        dateless = False
        if created is not None:
            first_touch = created
        elif events:
            first_touch = events[0][0]
        elif self.created_given is not None:
            first_touch = self.created_given
        else:
            first_touch = self.now
            if self.missing_dates == "now":
                dateless = True
            elif not any(c == self.created_column for c, _ in errors):
                errors.append((self.created_column, MISSING_DATE))
        start = self.start_stage
        if events and events[0][0] == first_touch and events[0][2].kind == StageKind.OPEN:
            start = events.pop(0)[2]
        elif not events and final is not None and final.kind == StageKind.OPEN:
            start = final
        history = [(start, first_touch)]
        for at, _pos, stage in events:
            if stage is not history[-1][0]:
                history.append((stage, at))
        if final is not None and final is not history[-1][0]:
            history.append((final, history[-1][1]))
        return history, first_touch, dateless

    def _channel(self, source: str, errors: list[tuple[str, str]]) -> str:
        key = source.lower()
        if key in self.channels or key in self.new_channels:
            return key
        slug = slugify(source)
        if slug and slug in self.channels:
            self.channels[key] = self.channels[slug]
            return key
        if len(self.new_channels) >= MAX_NEW_CHANNELS:
            errors.append(
                (
                    self._column_name("source"),
                    f"{_short(source)} is not a channel, and the file already has "
                    f"{MAX_NEW_CHANNELS} new sources: create the channels first",
                )
            )
            return ""
        self.new_channels[key] = source
        return key

    def _owner(self, owner: str, errors: list[tuple[str, str]], field: str = "owner") -> str:
        """The member lookup key of an owner (or, ``field="sourced_by"``, of who sourced the
        lead): a member, a mapped one, or a new member without login."""
        key = owner.lower()
        if key in self.members:
            return key
        if key in self.new_owners:
            self.new_roles[key].add(field)
            return key
        email = self.owner_map.get(key, "")
        if not email and "@" in owner:
            email = owner
        if email and email.lower() in self.members:
            self.members[key] = self.members[email.lower()]
            return key
        if not self.new_members_allowed:
            errors.append(
                (
                    self._column_name(field),
                    f"{_short(owner)} is not a member; map it with --owner-map "
                    "or allow new members",
                )
            )
            return ""
        if email and not _EMAIL.fullmatch(email.lower()):
            errors.append((self._column_name(field), f"{_short(email)} is not an email address"))
            return ""
        name = "" if "@" in owner else owner
        email = email or f"{slugify(owner)[:60] or 'member'}@{NEW_MEMBER_DOMAIN}"
        self.new_owners[key] = (name, email.lower())
        self.new_roles[key] = {field}
        return key

    def _reason(self, reason: str) -> str:
        key = reason.lower()
        if key not in self.reasons and key not in self.new_reasons:
            self.new_reasons[key] = reason
        return key

    # --- pass 1: check ---------------------------------------------------------------------

    def _known_keys(self) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
        """Compact duplicate keys (hashes) of the organization's leads, each to its lead's id:
        external id, email, phone, only those of ``result.match`` (the others stay empty)."""
        ids: dict[int, int] = {}
        emails: dict[int, int] = {}
        phones: dict[int, int] = {}
        for pk, external_id, email, phone in self.known_key_rows():
            if email:
                emails.setdefault(hash(email), pk)
            if phone:
                phones.setdefault(hash(phone), pk)
            if external_id:
                ids.setdefault(hash(external_id), pk)
        return ids, emails, phones

    def known_key_rows(self) -> Iterator[tuple[int, str, str, str]]:
        """(lead id, external id, email, phone key) of the organization's leads, as a
        duplicate is matched by them: only the keys of ``result.match`` ("" the others)."""
        match = self.result.match
        if not match:
            return
        use_x, use_e, use_p = (k in match for k in MATCH_KEYS)
        existing = Lead.objects.for_org(self.org).values_list("pk", "email", "phone", "external_id")
        for pk, email, phone, external_id in existing.iterator(chunk_size=10_000):
            yield (
                pk,
                external_id if use_x else "",
                email.strip().lower() if use_e and email else "",
                phone_key(phone) if use_p else "",
            )

    def ready(self) -> Callable[[_Parsed], tuple[Any, ...]]:
        """A checked row with the database's values for its amounts and datetimes."""
        adapt = datetime_adapter()
        dec: Callable[[Any], Any]
        if connection.vendor == "sqlite":
            dec = str  # what Django's SQLite backend registers for Decimal
        else:
            ops = connection.ops

            def dec(value: Any) -> Any:
                return ops.adapt_decimalfield_value(value, 14, 2)

        def ready(row: _Parsed) -> tuple[Any, ...]:
            value, revenue, cost = row.value, row.revenue, row.cost
            return (
                *row[:14],
                None if value is None else dec(value),
                adapt(row.first_touch),
                [(pk, adapt(at)) for pk, at in row.history],
                None if revenue is None else dec(revenue),
                None if cost is None else dec(cost),
                row.lost_reason,
                row.facts,
            )

        return ready

    def check(
        self, progress: Progress | None, *, keep: bool = True, columns: Columns | None = None
    ) -> _Spill:
        """Pass 1: every row parsed, checked and matched against the organization's leads and
        the earlier rows; the rows to write kept (``keep``) in line order.

        ``columns``: the whole columns were checked (:mod:`keepscore.imports.columnar`): only
        its rows (the few it could not settle) are read here, in line order, and what the
        others would create is added from it."""
        result = self.result
        kept = _Spill(self.ready() if keep else None)
        #: (lead id, *row) of the rows updating an existing lead (``update``)
        updates = self.updates = _Spill(tuple if keep else None, make=tuple)
        rejected = self.rejected_lines
        use_x, use_e, use_p = (k in result.match for k in MATCH_KEYS)
        update = result.update
        campaigns_known = set(
            Lead.objects.for_org(self.org)
            .exclude(campaign="")
            .values_list("campaign", flat=True)
            .distinct()
        )

        def reject(line: int) -> None:
            if len(rejected) <= line:
                rejected.extend(b"\0" * (line + 1 - len(rejected) + 4096))
            rejected[line] = 1

        # a duplicate names the file's column of the value it shares, and it in plain words

        def consume(rows: Iterator[tuple[int, list[str]]]) -> None:
            # afresh each time: a changed encoding reads the file again
            result.rows = result.rejected = result.errors_total = result.duplicates = 0
            result.warnings_total = 0
            result.errors.clear()
            result.duplicate_rows.clear()
            result.warnings.clear()
            kept.close()
            rejected[:] = b""
            # the organization's leads' keys → lead id; the keys of the file's rows kept so far
            # (sets, as compact as the keys: a 1,000,000-row file stays under 300 MB)
            ids, emails, phones = self._known_keys()
            ids_file: set[int] = set()
            emails_file: set[int] = set()
            phones_file: set[int] = set()
            #: in-file duplicates: line → (key, hash), named once the check is done
            earlier: dict[int, tuple[str, int | None]] = {}
            #: (key, hash) → the first line kept with it (only when few rows are read here)
            first_kept: dict[tuple[str, int], int] | None = {} if columns is not None else None
            updates.close()
            result.updated = 0
            stages: dict[int, int] = {}
            #: campaign → the first line with it
            campaigns: dict[str, int] = {}
            fact_names: dict[str, None] = {}
            # the sources, members and lost reasons the written rows use: only those of
            # them that do not exist yet are created (not a duplicate's, not a bad row's)
            used_sources: set[str] = set()
            used_members: set[str] = set()
            used_reasons: set[str] = set()
            self.used_sources, self.used_members = used_sources, used_members
            self.used_reasons = used_reasons
            watch: list[tuple[int, Callable[[str, Any], bool]]] = []
            watch_created = False
            if self.watching is not None:
                self.watched = self._date_watchers(self.watching)
                watch = [(i, self.watched[f].observe_match) for f, i in self.watching]
                watch_created = any(f == "created" for f, _i in self.watching)
            # built here: the date formats may have changed since the last pass
            parse = self.row_parser(watch, watch_created)
            now = self.now if self.missing_dates == "now" else None
            for line, values in rows:
                result.rows += 1
                if progress is not None and not result.rows % 20_000:
                    progress("checking", self._fraction())
                parsed = parse(line, values)
                if isinstance(parsed, list):
                    result.rejected += 1
                    for column, reason in parsed:
                        result.error(line, column, reason)
                    reject(line)
                    continue
                why = ""
                e = hash(parsed.email) if use_e and parsed.email else None
                p_key = phone_key(parsed.phone) if use_p else ""
                p = hash(p_key) if p_key else None
                x = hash(parsed.external_id) if use_x and parsed.external_id else None
                hit = 0
                if x is not None:
                    hit = IN_FILE if x in ids_file else ids.get(x, 0)
                    why = "external_id"
                if not hit and e is not None:
                    hit = IN_FILE if e in emails_file else emails.get(e, 0)
                    why = "email"
                if not hit and p is not None:
                    hit = IN_FILE if p in phones_file else phones.get(p, 0)
                    why = "phone"
                if hit and (hit < 0 or not update):
                    if hit < 0:  # the earlier line is found after the check
                        result.duplicate(line, why, "")
                        if len(earlier) < MAX_ERRORS:
                            earlier[line] = (why, {"external_id": x, "email": e, "phone": p}[why])
                    else:
                        result.duplicate(line, why, "", hit)  # the reason once named
                    reject(line)
                    continue
                if e is not None:
                    emails_file.add(e)
                if p is not None:
                    phones_file.add(p)
                if x is not None:
                    ids_file.add(x)
                if first_kept is not None:
                    for kind, h in (("external_id", x), ("email", e), ("phone", p)):
                        if h is not None:
                            first_kept.setdefault((kind, h), line)
                if hit:  # update: the existing lead takes the row (written after the new)
                    result.updated += 1
                    updates.add((hit, *parsed))
                    used_members.add(parsed.owner)  # its source stays the lead's
                    used_reasons.add(parsed.lost_reason)
                    continue
                if parsed.first_touch is now:  # the moment of import (missing_dates="now")
                    result.warning(line, self.created_column, MISSING_DATE_NOW)
                kept.add(parsed)
                used_sources.add(parsed.source)
                used_members.add(parsed.owner)
                used_members.add(parsed.sourced_by)
                used_reasons.add(parsed.lost_reason)
                final = parsed.history[-1][0]
                stages[final] = stages.get(final, 0) + 1
                campaign = parsed.campaign
                if campaign and campaign not in campaigns_known and len(campaigns) < MAX_LISTED:
                    campaigns.setdefault(campaign, line)
                if parsed.facts:
                    for name in parsed.facts:
                        fact_names.setdefault(name, None)

            if columns is not None:
                result.rows += columns.clean_rows
                for pk, n in columns.clean_stages.items():
                    stages[pk] = stages.get(pk, 0) + n
                used_sources.update(columns.clean_sources)
                used_members.update(columns.clean_members)
                used_reasons.update(columns.clean_reasons)
                for campaign, line in columns.clean_campaigns:
                    if campaign not in campaigns_known:
                        campaigns[campaign] = min(line, campaigns.get(campaign, line))
                campaigns = dict(sorted(campaigns.items(), key=lambda c: c[1])[:MAX_LISTED])
            self._duplicates_explain(earlier, first_kept)
            self._would_create(stages, list(campaigns), list(fact_names))

        if columns is None:
            rows_with_retry(self.table, consume)
        else:
            consume(columns.rows())
        return kept

    def _duplicates_explain(
        self,
        earlier: dict[int, tuple[str, int | None]],
        first_kept: dict[tuple[str, int], int] | None = None,
    ) -> None:
        """Name the existing lead each duplicate matched: ``same email as lead #412 “Ada”``
        (the leads' names read once, for the duplicates reported only), or the earlier line
        of the file: ``same email as line 7 of this file`` (found by reading the file again
        up to the last such duplicate, only when the file repeats itself)."""
        rows = self.result.duplicate_rows
        if first_kept is not None:  # every row with a shared key was read: no second pass
            lines = {d: first_kept[k] for d, k in earlier.items() if k in first_kept}  # type: ignore[index]
        else:
            lines = self._earlier_lines(earlier) if earlier else {}
        wanted = sorted({d.lead for d in rows if d.lead is not None})
        names: dict[int, str] = {}
        for i in range(0, len(wanted), NAMES_CHUNK):
            chunk = wanted[i : i + NAMES_CHUNK]
            names.update(
                Lead.objects.for_org(self.org).filter(pk__in=chunk).values_list("pk", "name")
            )
        for n, d in enumerate(rows):
            if d.lead is None and not d.reason:
                first = lines.get(d.line)
                where = f"line {first} of this file" if first else "an earlier row of this file"
                rows[n] = RowError(d.line, d.column, f"same {KEY_WORDS[d.column]} as {where}")
            elif d.lead is not None and not d.reason:
                name = names.get(d.lead, "")
                named = f" “{name}”" if name else ""
                reason = f"same {KEY_WORDS[d.column]} as lead #{d.lead}{named}"
                rows[n] = RowError(d.line, d.column, reason, d.lead)

    def _earlier_lines(self, earlier: dict[int, tuple[str, int | None]]) -> dict[int, int]:
        """Line of a duplicate → the first line of the file with its key (a row the check
        kept: not rejected, not a duplicate), the keys read as the check reads them."""
        wanted: dict[tuple[str, int | None], list[int]] = {}
        for line, key in earlier.items():
            wanted.setdefault(key, []).append(line)
        last = max(earlier)
        rejected = self.rejected_lines
        columns = {k: self.fields.get(k, []) for k in MATCH_KEYS}
        kinds = [k for k in MATCH_KEYS if any(kind == k for kind, _h in wanted)]
        found: dict[int, int] = {}

        def first_value(values: list[str], kind: str) -> str:
            for i in columns[kind]:
                if i < len(values):
                    v = values[i].strip()
                    if v:
                        return v
            return ""

        def consume(rows: Iterator[tuple[int, list[str]]]) -> None:
            found.clear()
            todo = dict(wanted)
            for line, values in rows:
                if line >= last or not todo:
                    break
                if line < len(rejected) and rejected[line]:
                    continue
                for kind in kinds:
                    v = first_value(values, kind)
                    if kind == "email":
                        v = v.lower()
                    elif kind == "phone":
                        v = phone_key(v)
                    if not v:
                        continue
                    dups = todo.pop((kind, hash(v)), None)
                    for dup in dups or ():
                        if dup > line:
                            found[dup] = line

        rows_with_retry(self.table, consume)
        return found

    def _would_create(self, stages: dict[int, int], campaigns: list[str], facts: list[str]) -> None:
        """``result.would_create`` from what the check found (see :class:`ImportResult`)."""
        members: list[dict[str, Any]] = []
        seen: set[str] = set()
        for lookup, (name, email) in self.new_owners.items():
            if email in self.members or email in seen or lookup not in self.used_members:
                continue
            seen.add(email)
            roles = self.new_roles.get(lookup, {"owner"})
            members.append(
                {
                    "name": name,
                    "email": email,
                    "roles": [
                        r
                        for r, f in (("sales", "owner"), ("marketing", "sourced_by"))
                        if f in roles
                    ],
                }
            )
        self.result.would_create = {
            "members": members,
            "channels": [
                channel_name(source)
                for lookup, source in self.new_channels.items()
                if lookup in self.used_sources
            ],
            "campaigns": campaigns,
            "lost_reasons": [
                name for lookup, name in self.new_reasons.items() if lookup in self.used_reasons
            ],
            "facts": facts,
            "stages": {s.name: stages[s.pk] for s in self.ladder if stages.get(s.pk)},
        }

    def _fraction(self) -> float:
        return min(1.0, self.table.position[0] / self.table.size) if self.table.size else 0.0

    # --- pass 2: write ---------------------------------------------------------------------

    def write(
        self, block: Bulk, kept: _Spill, by: Membership | None, progress: Progress | None
    ) -> None:
        """Write the kept rows through the recorder's bulk writer (``block``, made at
        ``self.now``), which counts them in the summaries when the block ends."""
        self._references_create()
        ops = connection.ops
        now = block.created
        no_facts = ops.adapt_json_value({}, None)
        adapt_json = ops.adapt_json_value
        by_user = by.user_id if by is not None else None
        # who sourced a lead without a sourced_by column: the member who imports it
        by_member = by.pk if by is not None else None
        org = self.org.pk
        result = self.result
        reason_ids = self.reasons
        stages = {stage.pk: stage for stage in self.ladder}
        now_iso = self.now.isoformat()
        done = [0]
        batch: list[_Parsed] = []

        def flush() -> None:
            lead_ids = block.ids(Lead, len(batch))
            lead_rows: list[tuple[Any, ...]] = []
            change_rows: list[tuple[Any, ...]] = []
            outcome_rows: list[tuple[Any, ...]] = []
            deals: list[tuple[int, int, Stage, Any, _Parsed]] = []
            n_changes = 0
            for row in batch:
                n_changes += len(row.history)
            change_ids = block.ids(StageChange, n_changes)
            for row in batch:
                lead_id = next(lead_ids)
                previous = None
                for stage_pk, at in row.history:
                    stage = stages[stage_pk]
                    change_id = next(change_ids)
                    past_gate = (
                        self.gate_position is not None and stage.position >= self.gate_position
                    )
                    change_rows.append(
                        (
                            change_id,
                            org,
                            now,
                            lead_id,
                            previous.pk if previous is not None else None,
                            stage.pk,
                            at,
                            by_user,
                            "",
                            past_gate,
                            OVERRIDE_REASON if past_gate else "",
                        )
                    )
                    if stage.kind != StageKind.OPEN:
                        deals.append((lead_id, change_id, stage, at, row))
                    previous = stage
                last_stage, last_at = row.history[-1]
                lead_rows.append(
                    (
                        lead_id,
                        org,
                        now,
                        row.name,
                        row.company,
                        row.email,
                        row.phone,
                        row.notes,
                        self.members[row.owner] if row.owner else None,
                        last_stage,
                        row.value,
                        row.first_touch,
                        last_at,
                        self.channels[row.source],
                        row.campaign,
                        row.utm_source,
                        row.utm_medium,
                        row.utm_campaign,
                        "",
                        row.external_id,
                        no_facts if row.facts is None else adapt_json(row.facts, None),
                        now,
                        self.members[row.sourced_by] if row.sourced_by else by_member,
                        None,  # erased_at: not erased
                    )
                )
            outcome_ids = block.ids(DealOutcome, len(deals))
            for lead_id, change_id, stage, at, row in deals:
                won = stage.kind == StageKind.WON
                outcome_rows.append(
                    (
                        next(outcome_ids),
                        org,
                        now,
                        lead_id,
                        change_id,
                        "won" if won else "lost",
                        at,
                        row.revenue if won else None,
                        row.cost if won else None,
                        None if won else reason_ids[row.lost_reason],
                        "",
                    )
                )
            block.write(Lead, lead_rows)
            if lead_rows:
                created = result.created_leads
                created.setdefault("first", lead_rows[0][0])
                created["last"] = lead_rows[-1][0]
                created["at"] = now_iso
            block.write(StageChange, change_rows)
            block.write(DealOutcome, outcome_rows)
            result.created += len(lead_rows)
            result.stage_changes += len(change_rows)
            result.outcomes += len(outcome_rows)
            batch.clear()
            if progress is not None:
                progress("writing", done[0] / max(1, result.rows))

        self._columns_check(block)
        cache_size = None
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                # a bigger page cache while the import writes: the tables' many indexes
                cursor.execute("PRAGMA cache_size")
                cache_size = int(cursor.fetchone()[0])
                cursor.execute(f"PRAGMA cache_size = {SQLITE_CACHE_KB}")
        try:
            for chunk in kept.batches():
                for parsed in chunk:
                    batch.append(parsed)
                    if len(batch) >= BATCH:
                        flush()
                        done[0] += BATCH
            if batch:
                flush()
        finally:
            kept.close()
            if cache_size is not None:
                with connection.cursor() as cursor:
                    cursor.execute(f"PRAGMA cache_size = {cache_size}")
        updates = getattr(self, "updates", None)
        if updates is not None:
            try:
                self._updates_apply(updates, by, progress)
            finally:
                updates.close()
        # the block counts the summaries when it ends, with the usual page cache, as SQLite's
        # sorts may hold as much as the cache in memory (the bigger one took 1M rows past 300 MB)

    def _updates_apply(
        self, updates: _Spill, by: Membership | None, progress: Progress | None
    ) -> None:
        """The rows matching an existing lead (``update``), through ``leads.services`` (so
        the summaries follow and the audit log records each change): the contact fields the
        file fills or changes (:data:`UPDATED_FIELDS`; an empty cell changes nothing), and the
        stage forward only, by new stage changes (a row behind the lead is a warning)."""
        from django.core.exceptions import ValidationError
        from django.db.models import Max

        from keepscore.leads.services import Outcome, lead_move, lead_update

        result = self.result
        result.updated = 0
        stages = {stage.pk: stage for stage in self.ladder}
        members: dict[int, Membership] = {}
        reasons: dict[int, LostReason] = {}
        done = 0
        for chunk in updates.batches():
            ids = [t[0] for t in chunk]
            leads = Lead.objects.for_org(self.org).select_related("organization").in_bulk(ids)
            latest = dict(
                StageChange.objects.filter(lead_id__in=ids)
                .values("lead_id")
                .annotate(m=Max("at"))
                .values_list("lead_id", "m")
            )
            for t in chunk:
                lead = leads.get(t[0])
                row = _Parsed._make(t[1 : 1 + len(_Parsed._fields)])
                if lead is None:
                    continue
                if lead.erased_at is not None:
                    result.warnings.append(
                        RowError(row.line, "", f"lead #{lead.pk} was erased: not updated")
                    )
                    continue
                changed = False
                fields = self._update_fields(lead, row, members)
                if fields:
                    try:
                        lead_update(lead=lead, **fields)
                        changed = True
                    except ValidationError as error:
                        result.warnings.append(
                            RowError(
                                row.line, "", f"lead #{lead.pk} not updated: {_message(error)}"
                            )
                        )
                current = stages[lead.stage_id]
                final = stages[row.history[-1][0]]
                if current.kind != StageKind.OPEN:
                    if final is not current:
                        result.warnings.append(
                            RowError(
                                row.line,
                                "stage",
                                f"lead #{lead.pk} is already at {current.name} (closed): "
                                f"not moved to {final.name}",
                            )
                        )
                elif final.kind == StageKind.OPEN and final.position < current.position:
                    result.warnings.append(
                        RowError(
                            row.line,
                            "stage",
                            f"{final.name} is behind lead #{lead.pk}'s stage {current.name}: "
                            "not moved back",
                        )
                    )
                else:
                    moves = []
                    for pk, at in row.history:
                        stage = stages[pk]
                        if stage.kind != StageKind.OPEN or stage.position > current.position:
                            moves.append((stage, at))
                            if stage.kind != StageKind.OPEN:
                                break
                    last = latest.get(lead.pk) or lead.first_touch_at
                    if moves and moves[0][1] < max(last, lead.first_touch_at):
                        # history is append-only: the moves go after the lead's last change
                        result.warnings.append(
                            RowError(
                                row.line,
                                "stage",
                                f"the file's date for {moves[0][0].name} is before lead "
                                f"#{lead.pk}'s latest stage change: moved at the import's time",
                            )
                        )
                        moves = [(stage, self.now) for stage, _at in moves]
                    try:
                        for stage, at in moves:
                            outcome = None
                            if stage.kind == StageKind.WON:
                                outcome = Outcome(revenue=row.revenue, cost=row.cost)
                            elif stage.kind == StageKind.LOST:
                                pk = self.reasons[row.lost_reason]
                                if pk not in reasons:
                                    reasons[pk] = LostReason.objects.get(pk=pk)
                                outcome = Outcome(lost_reason=reasons[pk])
                            lead_move(
                                lead=lead,
                                to_stage=stage,
                                by=by,
                                at=at,
                                override_reason=OVERRIDE_REASON,
                                outcome=outcome,
                            )
                            result.stage_changes += 1
                            result.outcomes += stage.kind != StageKind.OPEN
                            changed = True
                    except ValidationError as error:
                        result.warnings.append(
                            RowError(
                                row.line, "stage", f"lead #{lead.pk} not moved: {_message(error)}"
                            )
                        )
                result.updated += changed
            done += len(chunk)
            if progress is not None:
                progress("updating", done / max(1, result.rows))

    def _update_fields(
        self, lead: Lead, row: _Parsed, members: dict[int, Membership]
    ) -> dict[str, Any]:
        """The fields a row changes on an existing lead (see :data:`UPDATED_FIELDS`)."""
        fields: dict[str, Any] = {}
        for name in ("name", "company"):
            value = getattr(row, name)
            if value and value != getattr(lead, name):
                fields[name] = value
        if row.email and row.email != lead.email.strip().lower():
            fields["email"] = row.email
        if row.phone and phone_key(row.phone) != phone_key(lead.phone):
            fields["phone"] = row.phone
        if row.notes and row.notes not in lead.notes:
            fields["notes"] = f"{lead.notes}\n\n{row.notes}" if lead.notes else row.notes
        if row.value is not None and row.value != lead.value:
            fields["value"] = row.value
        if row.owner:
            pk = self.members[row.owner]
            if pk != lead.owner_id:
                if pk not in members:
                    members[pk] = Membership.objects.get(pk=pk)
                fields["owner"] = members[pk]
        return fields

    @staticmethod
    def _columns_check(block: Bulk) -> None:
        """The tuples above are in the tables' column order; fail loudly if a model changed."""
        expected = {
            Lead: "id organization_id created_at name company email phone notes owner_id "
            "stage_id value first_touch_at stage_entered_at channel_id campaign utm_source "
            "utm_medium utm_campaign referrer external_id facts updated_at sourced_by_id "
            "erased_at",
            StageChange: "id organization_id created_at lead_id from_stage_id to_stage_id at by_id "
            "note qualification_override override_reason",
            DealOutcome: "id organization_id created_at lead_id stage_change_id result at revenue "
            "cost lost_reason_id lost_note",
        }
        for model, columns in expected.items():
            if block.columns(model) != columns.split():
                raise RuntimeError(f"import writer is out of date for {model.__name__}")

    def _references_create(self) -> None:
        """The channels, members and lost reasons the rows need that do not exist yet."""
        from keepscore.accounts.services import member_add, user_create

        result = self.result
        keys = set(self.channel_keys)
        for lookup, source in self.new_channels.items():
            if lookup not in self.used_sources:
                continue  # named only by rows not written
            # the key is the source as written (slugified), so it maps back on re-import
            base = slugify(source)[:50] or "channel"
            key, n = base, 2
            while key in keys:
                key, n = f"{base}-{n}", n + 1
            keys.add(key)
            name = channel_name(source)
            channel = Channel.objects.create(organization=self.org, name=name[:100], key=key)
            self.channels[lookup] = channel.pk
            result.new_channels.append(name)
        for lookup, (name, email) in self.new_owners.items():
            if lookup not in self.used_members:
                continue
            membership_id = self.members.get(email)
            if membership_id is None:
                user = User.objects.filter(email__iexact=email).first()
                if user is None:
                    first, _, last = name.partition(" ")
                    user = user_create(
                        email=email,
                        password=None,
                        first_name=first[:150],
                        last_name=last[:150],
                        can_login=False,
                    )
                membership = Membership.objects.filter(organization=self.org, user=user).first()
                if membership is None:
                    roles = self.new_roles.get(lookup, {"owner"})
                    membership = member_add(
                        organization=self.org,
                        user=user,
                        is_sales="owner" in roles,
                        is_marketing="sourced_by" in roles,
                    )
                membership_id = membership.pk
                self.members[email] = membership_id
                result.new_members.append(f"{name} <{email}>" if name else email)
            self.members[lookup] = membership_id
        for lookup, name in self.new_reasons.items():
            if lookup not in self.used_reasons:
                continue
            reason = LostReason.objects.create(organization=self.org, name=name)
            self.reasons[lookup] = reason.pk
            result.new_lost_reasons.append(name)


LABEL_ISO = date_format_parse("YYYY-MM-DD")
#: what ``update`` changes on an existing lead, when the file's cell is filled and differs;
#: never its source (channel, campaign, UTM), first touch, id or who sourced it
UPDATED_FIELDS = ("name", "company", "email", "phone", "notes", "value", "owner")


#: the words ``--match`` (and the API's ``match``) take for MATCH_KEYS
MATCH_WORDS = {
    "id": "external_id",
    "external_id": "external_id",
    "email": "email",
    "phone": "phone",
}


def match_parse(text: str) -> tuple[str, ...]:
    """``"id,email"`` → ("external_id", "email"); ValueError naming a word that is no key."""
    keys: list[str] = []
    for part in text.split(","):
        word = part.strip().lower()
        if not word:
            continue
        key = MATCH_WORDS.get(word)
        if key is None:
            raise ValueError(f"{part.strip()!r} is not id, email or phone")
        if key not in keys:
            keys.append(key)
    if not keys:
        raise ValueError("name at least one of id, email, phone")
    return tuple(keys)


def stages_in_order(organization: Organization, stages: dict[str, int]) -> dict[str, int]:
    """A job report's leads per stage in ladder order (PostgreSQL's JSON keeps no order)."""
    names = Stage.objects.for_org(organization).order_by("position", "id")
    ordered = {n: stages[n] for n in names.values_list("name", flat=True) if n in stages}
    return {**ordered, **{n: c for n, c in stages.items() if n not in ordered}}


def _message(error: Any) -> str:
    """A ValidationError's messages, in one line."""
    return " ".join(str(m) for m in getattr(error, "messages", [error]))


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
    :data:`DEFAULTABLE`); they override the preset's. ``missing_dates``: ``"error"`` (a row
    without a date of first contact is an error) or ``"now"`` (it gets the moment of the
    import, and a warning).

    Never raises for a bad file or bad rows: the result carries the problems (file-level)
    and the row errors. ``result.failed`` says nothing was imported because of them.
    ``encoding``: the CSV's, when it is neither UTF-8 nor Windows-1252 (else detected).
    ``file_name``: the file's name in the messages, when ``path`` is a stored upload's.
    ``match``: the keys a row is a duplicate by (among :data:`MATCH_KEYS`; None: all three).
    ``update``: a row matching an existing lead updates it (:data:`UPDATED_FIELDS`, the
    stage forward only) instead of being skipped; rows repeating an earlier row are skipped.
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
        _job_record(organization, result, by, timezone.now())
        return result
    started = timezone.now()
    try:
        chosen = preset_get(preset)
        table = table_open(path, encoding=encoding, offers_encoding=True, name=result.file)
        result.file_format = table.describe()
        engine = _LeadImport(
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
                kept = _Spill(None)  # checked over whole columns (large plain CSVs)
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
                    _rejected_write(table, engine.rejected_lines, result)
    except (FileProblem, ValueError) as error:
        result.problems.append(str(error))
    _job_record(organization, result, by, started)
    return result


def _rejected_write(table: Table, rejected: bytearray, result: ImportResult) -> None:
    """The rows with errors (not the duplicates), as they were, under the file's header."""
    bad = {e.line for e in result.errors}
    assert result.rejected_path is not None
    with result.rejected_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(table.header)

        def consume(rows: Iterator[tuple[int, list[str]]]) -> None:
            for line, values in rows:
                if line < len(rejected) and rejected[line] and line in bad:
                    writer.writerow(values)

        rows_with_retry(table, consume)


def _job_record(
    organization: Organization, result: ImportResult, by: Membership | None, started: datetime
) -> None:
    if result.imported:
        status = ImportJob.Status.IMPORTED
    elif result.dry_run and not result.failed:
        status = ImportJob.Status.DRY_RUN
    else:
        status = ImportJob.Status.FAILED
    job = ImportJob.objects.create(
        organization=organization,
        kind=result.kind,
        file_name=result.file[:255],
        preset=result.preset[:30],
        status=status,
        rows=result.rows,
        created=result.created,
        duplicates=result.duplicates,
        rejected=result.rejected,
        report={
            "problems": result.problems,
            "errors": [[e.line, e.column, e.reason] for e in result.errors[:1000]],
            "errors_total": result.errors_total,
            # [line, key, reason, id of the lead matched (None: an earlier row of the file)]
            "duplicates": [
                [e.line, e.column, e.reason, e.lead] for e in result.duplicate_rows[:1000]
            ],
            "warnings": [[e.line, e.column, e.reason] for e in result.warnings[:1000]],
            "warnings_total": result.warnings_total,
            "date_formats": result.date_formats,
            # [column, field] pairs in the file's order (a JSON object's keys lose their order
            # in PostgreSQL's jsonb)
            "columns": [[column, target] for column, target in result.columns.items()],
            "new_channels": result.new_channels,
            "new_members": result.new_members,
            "would_create": result.would_create,
            "updated": result.updated,
            "match": list(result.match),
            "update": result.update,
            "created_leads": result.created_leads,
        },
        created_by=by.user if by is not None else None,
        started_at=started,
        finished_at=timezone.now(),
    )
    result.job_id = job.pk
    audit.imported(organization, job)
