"""``import all``: an ``export all`` archive read back into a new, empty organization.

Every record comes back as it was exported, matched by its exported id (leads by their
``key``, never by name, email or phone: two leads sharing a phone number stay two), with
its stage history, outcomes and their lines, corrections, later touches, activities,
objections, qualification answers, follow-ups, web forms and their submissions, and the
settings the figures are computed with: the ladder, channels, lost reasons, checklist,
products and default margin, spend and cash, manual metrics and their values, targets,
goals, review entries and kept diagnoses. Members are matched by email: an existing user
joins with the archive's roles; anyone else becomes a user without login.

All of it in one transaction, through the recorder's bulk writer (``history.bulk``, which
builds the summaries when it ends) and the services for members: a damaged archive or a
bad cell leaves nothing behind, and the error names the file inside the zip, the row (as a
spreadsheet numbers it: the header is row 1) and the column.

Not kept: when each row was created or last updated (``created_at``, ``updated_at``: the
import's time), API tokens (made again), import jobs and their uploads.
"""

from __future__ import annotations

import csv
import json
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Model

from keepscore.accounts.models import Membership, Organization, User
from keepscore.activities.models import Activity, Objection
from keepscore.audit import services as audit
from keepscore.common import money
from keepscore.economics.models import CashPosition, DealLine, MoneySettings, Product, Spend
from keepscore.exports.services import FORMAT_VERSION, KIND
from keepscore.exports.writers import unescape
from keepscore.focus.models import KeptDiagnosis
from keepscore.followups.models import FollowUp
from keepscore.history import recorder
from keepscore.history.bulk import Bulk, bulk, datetime_adapter
from keepscore.leads.models import (
    Channel,
    DealOutcome,
    Lead,
    LostReason,
    QualificationAnswer,
    QualificationCriterion,
    Stage,
    StageChange,
    StageCorrection,
    Touch,
)
from keepscore.scorecard.models import Goal, ManualMetric, ManualValue, ReviewEntry, Target
from keepscore.webforms.models import FormField, WebForm, WebFormSubmission, new_key

#: rows written at a time
BATCH = 2_000
#: the longest cell read (notes can be long; a damaged file must not fill the memory)
MAX_CELL = 10 * 1024 * 1024
MANIFEST = "manifest.json"
#: the files every format-2 archive holds
REQUIRED = (
    "members",
    "channels",
    "lost_reasons",
    "stages",
    "qualification_criteria",
    "leads",
    "stage_changes",
    "outcomes",
    "touches",
    "activities",
    "objections",
    "qualification_answers",
)

Progress = Callable[[str, float], None]


class ArchiveError(Exception):
    """What is wrong with the archive, and where: the file inside it, the row, the column."""

    def __init__(
        self, message: str, file: str = "", row: int | None = None, column: str = ""
    ) -> None:
        self.file, self.row, self.column, self.message = file, row, column, message
        where = ", ".join(
            part
            for part in (
                file,
                f"row {row}" if row is not None else "",
                f"column {column}" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


@dataclass
class ArchiveImportResult:
    organization: Organization
    counts: dict[str, int] = field(default_factory=dict)
    new_users: list[str] = field(default_factory=list)
    joined_users: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- reading ----------------------------------------------------------------------------


class Row:
    """One row of a CSV file of the archive: its cells by column, read as model fields."""

    __slots__ = ("file", "number", "values")

    def __init__(self, file: str, number: int, values: dict[str, str]) -> None:
        self.file, self.number, self.values = file, number, values

    def error(self, column: str, message: str) -> ArchiveError:
        return ArchiveError(message, self.file, self.number, column)

    def raw(self, column: str) -> str:
        return self.values.get(column, "")

    def has(self, column: str) -> bool:
        return column in self.values

    def value(self, column: str, model: type[Model], name: str) -> Any:
        """The cell as the model field ``name`` holds it, checked by the field's own rules
        (type, length, choices, validators, empty or not)."""
        text = self.raw(column)
        got = model._meta.get_field(name)
        assert isinstance(got, models.Field)
        model_field: models.Field[Any, Any] = got
        try:
            if text == "" and model_field.null:
                return None
            if isinstance(model_field, models.BooleanField):
                if text not in ("true", "false"):
                    raise ValidationError(f"{text!r} is neither true nor false")
                return text == "true"
            if isinstance(model_field, models.JSONField):
                try:
                    parsed = json.loads(text)
                except ValueError as error:
                    raise ValidationError(f"not JSON ({error})") from None
                model_field.run_validators(parsed)
                return parsed
            cleaned = model_field.clean(text, None)
            if isinstance(model_field, models.DateTimeField) and cleaned.tzinfo is None:
                raise ValidationError(f"{text!r} has no offset from UTC")
            return cleaned
        except ValidationError as error:
            raise self.error(column, " ".join(error.messages)) from None

    def values_of(self, model: type[Model], columns: dict[str, str]) -> dict[str, Any]:
        """Cells of ``columns`` (column: field name) as the model's fields."""
        return {name: self.value(column, model, name) for column, name in columns.items()}

    def integer(self, column: str) -> int:
        text = self.raw(column)
        try:
            return int(text)
        except ValueError:
            raise self.error(column, f"{text!r} is not a whole number") from None

    def optional_integer(self, column: str) -> int | None:
        return self.integer(column) if self.raw(column) else None


class Reader:
    """The archive's files, read row by row (cells unescaped), with their problems named."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = path.name
        if not path.is_file():
            raise ArchiveError(f"{path}: no such file")
        try:
            self.zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ArchiveError(
                f"{self.label} is not an `export all` archive: not a zip, or a damaged one"
            ) from None
        except OSError as error:
            raise ArchiveError(f"cannot read {path}: {error.strerror or error}") from None
        self.names = set(self.zip.namelist())
        self.manifest = self._manifest()

    def close(self) -> None:
        self.zip.close()

    def _manifest(self) -> dict[str, Any]:
        if MANIFEST not in self.names:
            raise ArchiveError(f"{self.label} is not an `export all` archive: no {MANIFEST}")
        try:
            manifest = json.loads(self.zip.read(MANIFEST))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, zlib.error) as error:
            raise ArchiveError(f"{self.label}: {MANIFEST} does not read ({error})") from None
        if not isinstance(manifest, dict):
            raise ArchiveError(f"{self.label}: {MANIFEST} is not an object")
        kind = manifest.get("kind")
        if kind == "keepscore backup":
            raise ArchiveError(
                f"{self.label} is a backup of a whole installation, not an export: restore it "
                "with `keepscore restore`"
            )
        version = manifest.get("format_version")
        if version == 1 and kind is None:
            raise ArchiveError(
                f"{self.label} is an export of format 1, which lacks what a faithful copy "
                "needs (the leads' keys, override reasons, the outcomes' stage changes, money "
                "and scorecard settings): export the organization again with this keepscore"
            )
        if kind != KIND or not isinstance(version, int):
            raise ArchiveError(f"{self.label} is not an `export all` archive of keepscore")
        if version > FORMAT_VERSION:
            raise ArchiveError(
                f"{self.label} is an export of format {version}; this keepscore reads format "
                f"{FORMAT_VERSION}: import it with a newer keepscore"
            )
        for name in REQUIRED:
            if f"{name}.csv" not in self.names:
                raise ArchiveError(f"{self.label} lacks {name}.csv")
        return manifest

    def check(self) -> None:
        """Every file of the zip reads whole (its CRC)."""
        for info in self.zip.infolist():
            try:
                with self.zip.open(info) as member:
                    while member.read(1024 * 1024):
                        pass
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
                raise ArchiveError(
                    f"{self.label} is damaged: {info.filename} does not read ({error})"
                ) from None

    def count(self, name: str) -> int:
        counts = self.manifest.get("counts")
        value = counts.get(name) if isinstance(counts, dict) else None
        return value if isinstance(value, int) else 0

    def rows(self, name: str, required: Sequence[str]) -> Iterator[Row]:
        """The rows of ``name.csv`` (none when an optional file is absent)."""
        file = f"{name}.csv"
        if file not in self.names:
            return
        limit = csv.field_size_limit()
        csv.field_size_limit(max(limit, MAX_CELL))
        number = 1
        try:
            with self.zip.open(file) as raw:
                reader = csv.reader(_decoded(raw, file))
                header = next(reader, None)
                if header is None:
                    raise ArchiveError("empty: no header", file)
                missing = [c for c in required if c not in header]
                if missing:
                    raise ArchiveError(f"no column {', '.join(missing)} in the header", file)
                width = len(header)
                for values in reader:
                    number += 1
                    if len(values) != width:
                        raise ArchiveError(
                            f"{len(values)} values, the header has {width} columns", file, number
                        )
                    yield Row(file, number, dict(zip(header, map(unescape, values), strict=True)))
        except csv.Error as error:
            raise ArchiveError(f"not CSV ({error})", file, number + 1) from None
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise ArchiveError(f"damaged ({error})", file) from None
        finally:
            csv.field_size_limit(limit)


def _decoded(raw: IO[bytes], file: str) -> Iterator[str]:
    """The file's lines as text (each with its line end, as ``newline=""`` reads them)."""
    for line_number, line in enumerate(raw, start=1):
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            raise ArchiveError(f"not UTF-8 text (line {line_number} of the file)", file) from None


# --- writing ----------------------------------------------------------------------------


def _insert(
    rows: list[tuple[Row, Model]], create: Callable[[list[Any]], list[Any]], what: str
) -> list[Any]:
    """Insert a batch; when the database refuses it, find the row it refuses and name it."""
    objs = [obj for _, obj in rows]
    try:
        with transaction.atomic():
            return create(objs)
    except DatabaseError as refused:
        for row, obj in rows:
            try:
                with transaction.atomic():
                    create([obj])
            except DatabaseError as error:
                raise row.error("", f"the database refuses this {what}: {_first(error)}") from None
        raise ArchiveError(f"the database refuses these rows: {_first(refused)}") from None


def _adapter(model_field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """A field's value as the database takes it in a whole-row insert (what Django's
    ``get_db_prep_save`` gives, without its per-call cost)."""
    ops = connection.ops
    adapt: Callable[[Any], Any]
    if isinstance(model_field, models.DateTimeField):
        adapt = datetime_adapter()
    elif isinstance(model_field, models.DateField):
        adapt = ops.adapt_datefield_value
    elif isinstance(model_field, models.TimeField):
        adapt = ops.adapt_timefield_value
    elif isinstance(model_field, models.DecimalField):
        digits, places = model_field.max_digits, model_field.decimal_places
        adapt = (
            str
            if connection.vendor == "sqlite"  # what Django's SQLite backend registers
            else (lambda value: ops.adapt_decimalfield_value(value, digits, places))
        )
    elif isinstance(model_field, models.JSONField):
        encoder = model_field.encoder
        return lambda value: ops.adapt_json_value(value, encoder)
    else:
        return lambda value: value
    return lambda value: None if value is None else adapt(value)


def _history_writer(block: Bulk, model: type[Model]) -> Callable[[list[Any]], list[Any]]:
    columns = block.columns(model)
    by_column = {f.column: f for f in model._meta.concrete_fields}
    now = block.created  # the block's moment, as the database takes it
    getters: list[Callable[[Any], Any]] = []
    for column in columns[3:]:  # after id, organization and created_at
        model_field = by_column[column]
        if getattr(model_field, "auto_now", False):
            getters.append(lambda obj: now)
        else:
            adapt, attname = _adapter(model_field), model_field.attname
            getters.append(lambda obj, a=attname, f=adapt: f(getattr(obj, a)))  # type: ignore[misc]
    org = block.organization.pk

    def create(objs: list[Any]) -> list[Any]:
        for obj, pk in zip(objs, block.ids(model, len(objs)), strict=True):
            obj.pk = pk
        block.write(model, [(o.pk, org, block.created, *(g(o) for g in getters)) for o in objs])
        return objs

    return create


def _first(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


class Importer:
    """One archive into one organization: the maps from exported ids to new ones."""

    def __init__(self, reader: Reader, organization: Organization, progress: Progress) -> None:
        self.reader = reader
        self.org = organization
        self.progress = progress
        self.result = ArchiveImportResult(organization=organization)
        self.total = max(1, sum(reader.count(n) for n in reader.manifest.get("counts", {})))
        self.done = 0
        self.members: dict[str, int] = {}  # email (lower case): membership id
        self.users: dict[str, int] = {}  # email (lower case): user id
        self.channels: dict[str, int] = {}  # key: id
        self.reasons: dict[str, int] = {}  # name: id
        self.stages: dict[str, Stage] = {}  # key: stage
        self.criteria: dict[int, int] = {}
        self.products: dict[int, int] = {}
        self.metrics: dict[str, int] = {}  # manual metric key: id
        self.leads: dict[str, int] = {}  # key (ks-<id>): id
        self.changes: dict[int, tuple[int, int]] = {}  # id: (new id, lead id)
        self.outcomes: dict[int, int] = {}
        self.activities: dict[int, int] = {}
        self.forms: dict[int, int] = {}
        self.seen: dict[str, set[int]] = {}  # file: the exported ids read

    # --- references --------------------------------------------------------------------

    def _count(self, name: str, n: int) -> None:
        self.result.counts[name] = self.result.counts.get(name, 0) + n
        self.done += n
        self.progress(f"reading {name}", min(1.0, self.done / self.total))

    def member(self, row: Row, column: str) -> int | None:
        email = row.raw(column).strip().lower()
        if not email:
            return None
        if email not in self.members:
            raise row.error(column, f"{email} is not in members.csv")
        return self.members[email]

    def user(self, row: Row, column: str) -> int | None:
        """A user by email: a member, another user of this installation, or a new one
        without login (someone who has left the organization since)."""
        from keepscore.accounts.services import user_create

        email = row.raw(column).strip()
        if not email:
            return None
        key = email.lower()
        if key not in self.users:
            found = User.objects.filter(email__iexact=email).first()
            if found is None:
                try:
                    found = user_create(email=email, password=None, can_login=False)
                except ValidationError as error:
                    raise row.error(column, " ".join(error.messages)) from None
                self.result.new_users.append(found.email)
            self.users[key] = found.pk
        return self.users[key]

    def lead(self, row: Row, column: str = "lead_key") -> int:
        key = row.raw(column)
        if key not in self.leads:
            raise row.error(column, f"no lead with key {key!r} in leads.csv")
        return self.leads[key]

    def stage(self, row: Row, column: str, *, empty: bool = False) -> Stage | None:
        key = row.raw(column)
        if not key and empty:
            return None
        if key not in self.stages:
            raise row.error(column, f"no stage {key!r} in stages.csv")
        return self.stages[key]

    def channel(self, row: Row, column: str) -> int:
        key = row.raw(column)
        if key not in self.channels:
            raise row.error(column, f"no channel {key!r} in channels.csv")
        return self.channels[key]

    def old(self, row: Row, column: str, known: dict[int, Any], file: str) -> Any:
        """A row named by its exported id in another file."""
        number = row.integer(column)
        if number not in known:
            raise row.error(column, f"no row with id {number} in {file}")
        return known[number]

    def fresh_id(self, row: Row) -> int:
        """The row's exported id, never seen before in its file."""
        number = row.integer("id")
        seen = self.seen.setdefault(row.file, set())
        if number in seen:
            raise row.error("id", f"id {number} appears twice")
        seen.add(number)
        return number

    # --- writing a table ---------------------------------------------------------------

    def table(
        self,
        name: str,
        required: Sequence[str],
        make: Callable[[Row], Model | None],
        create: Callable[[list[Any]], list[Any]],
        saved: Callable[[Row, Any], None] | None = None,
        what: str = "row",
    ) -> None:
        """Each row of ``name.csv`` made into an instance, written in batches; ``saved`` is
        told each written row with its saved instance (to map the exported id)."""
        batch: list[tuple[Row, Model]] = []

        def flush() -> None:
            done = _insert(batch, create, what)
            if saved is not None:
                for (row, _), obj in zip(batch, done, strict=True):
                    saved(row, obj)
            self._count(name, len(batch))
            batch.clear()

        for row in self.reader.rows(name, required):
            obj = make(row)
            if obj is None:
                continue
            batch.append((row, obj))
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
        self.result.counts.setdefault(name, 0)

    @staticmethod
    def plain(model: type[Model]) -> Callable[[list[Any]], list[Any]]:
        manager: Any = model._default_manager
        return lambda objs: list(manager.bulk_create(objs))

    def history(self, block: Bulk, model: type[Model]) -> Callable[[list[Any]], list[Any]]:
        """History rows written through the recorder's bulk writer as whole rows (ids
        reserved first): instances in, the same instances with their ids out."""
        return _history_writer(block, model)

    # --- the settings ------------------------------------------------------------------

    def members_read(self) -> None:
        from keepscore.accounts.services import member_add

        for row in self.reader.rows("members", ["email", "roles"]):
            email = row.raw("email").strip()
            if not email:
                raise row.error("email", "empty")
            roles = set(row.raw("roles").split())
            unknown = roles - {"owner", "marketing", "sales"}
            if unknown:
                raise row.error("roles", f"unknown roles {', '.join(sorted(unknown))}")
            share = row.value("marketing_share", Membership, "marketing_share")
            user = User.objects.get(pk=self.user(row, "email") or 0)
            if user.email not in self.result.new_users:
                self.result.joined_users.append(user.email)
            if user.email in self.result.new_users and (
                row.raw("first_name") or row.raw("last_name")
            ):
                user.first_name = row.raw("first_name")[:150]
                user.last_name = row.raw("last_name")[:150]
                user.save(update_fields=["first_name", "last_name"])
            existing = Membership.objects.filter(organization=self.org, user=user).first()
            if existing is None:
                try:
                    existing = member_add(
                        organization=self.org,
                        user=user,
                        is_owner="owner" in roles,
                        is_marketing="marketing" in roles,
                        is_sales="sales" in roles,
                        marketing_share=share,
                    )
                except ValidationError as error:
                    raise row.error("email", " ".join(error.messages)) from None
            self.members[email.lower()] = existing.pk
            self._count("members", 1)
        self.result.counts.setdefault("members", 0)

    def settings_read(self, block: Bulk) -> None:
        org = self.org

        channel_columns = {c: c for c in ("key", "name", "active")}
        self.table(
            "channels",
            list(channel_columns),
            lambda row: Channel(organization=org, **row.values_of(Channel, channel_columns)),
            self.plain(Channel),
            lambda row, obj: self.channels.__setitem__(obj.key, obj.pk),
            "channel",
        )
        self.table(
            "lost_reasons",
            ["name", "active"],
            lambda row: LostReason(
                organization=org, **row.values_of(LostReason, {"name": "name", "active": "active"})
            ),
            self.plain(LostReason),
            lambda row, obj: self.reasons.__setitem__(obj.name, obj.pk),
            "lost reason",
        )
        stage_columns = {
            c: c
            for c in (
                *("key", "name", "position", "group", "kind", "requires_qualification"),
                *("playbook", "exit_criteria"),
            )
        }
        self.table(
            "stages",
            list(stage_columns),
            lambda row: Stage(organization=org, **row.values_of(Stage, stage_columns)),
            self.history(block, Stage),
            lambda row, obj: self.stages.__setitem__(obj.key, obj),
            "stage",
        )
        criterion_columns = {c: c for c in ("text", "required", "position", "active")}

        def criterion(row: Row) -> Model:
            self.fresh_id(row)
            return QualificationCriterion(
                organization=org, **row.values_of(QualificationCriterion, criterion_columns)
            )

        self.table(
            "qualification_criteria",
            ["id", *criterion_columns],
            criterion,
            self.plain(QualificationCriterion),
            lambda row, obj: self.criteria.__setitem__(row.integer("id"), obj.pk),
            "criterion",
        )
        product_columns = {c: c for c in ("name", "price", "cost", "active")}

        def product(row: Row) -> Model:
            self.fresh_id(row)
            return Product(organization=org, **row.values_of(Product, product_columns))

        self.table(
            "products",
            ["id", *product_columns],
            product,
            self.plain(Product),
            lambda row, obj: self.products.__setitem__(row.integer("id"), obj.pk),
            "product",
        )
        self.table(
            "money_settings",
            ["default_margin_pct"],
            lambda row: MoneySettings(
                organization=org,
                default_margin_pct=row.value(
                    "default_margin_pct", MoneySettings, "default_margin_pct"
                ),
            ),
            self.plain(MoneySettings),
        )
        metric_columns = {
            c: c
            for c in (
                *("key", "name", "group", "unit", "higher_is_better", "description"),
                *("position", "active"),
            )
        }
        self.table(
            "manual_metrics",
            list(metric_columns),
            lambda row: ManualMetric(
                organization=org, **row.values_of(ManualMetric, metric_columns)
            ),
            self.plain(ManualMetric),
            lambda row, obj: self.metrics.__setitem__(obj.key, obj.pk),
            "manual metric",
        )

    # --- the history -------------------------------------------------------------------

    #: columns of web form submissions not in archives of format 2 made before them
    CONSENT_COLUMNS = ("consent_version", "consented_at")
    LEAD_COLUMNS = {
        **{c: c for c in ("name", "company", "email", "phone", "notes", "campaign")},
        **{c: c for c in ("utm_source", "utm_medium", "utm_campaign", "referrer")},
        **{c: c for c in ("external_id", "value", "stage_entered_at", "facts", "erased_at")},
        "created": "first_touch_at",
    }

    def history_read(self, block: Bulk) -> None:
        org = self.org

        def lead(row: Row) -> Model:
            key = row.raw("key")
            if not key:
                raise row.error("key", "empty")
            if key in self.leads:
                raise row.error("key", f"the key {key!r} appears twice")
            stage = self.stage(row, "stage")
            return Lead(
                organization=org,
                **row.values_of(Lead, self.LEAD_COLUMNS),
                stage=stage,
                channel_id=self.channel(row, "channel_key"),
                owner_id=self.member(row, "owner"),
                sourced_by_id=self.member(row, "sourced_by"),
            )

        self.table(
            "leads",
            # erased_at: not in archives of format 2 made before erasure was possible
            ["key", "stage", "channel_key", "owner", "sourced_by"]
            + [c for c in self.LEAD_COLUMNS if c != "erased_at"],
            lead,
            self.history(block, Lead),
            lambda row, obj: self.leads.__setitem__(row.raw("key"), obj.pk),
            "lead",
        )

        def change(row: Row) -> Model:
            self.fresh_id(row)
            override = row.value("qualification_override", StageChange, "qualification_override")
            reason = row.value("override_reason", StageChange, "override_reason")
            if override and not reason:
                raise row.error("override_reason", "empty, but the gate was overridden")
            return StageChange(
                organization=org,
                lead_id=self.lead(row),
                from_stage=self.stage(row, "from_stage", empty=True),
                to_stage=self.stage(row, "to_stage"),
                at=row.value("at", StageChange, "at"),
                by_id=self.user(row, "by"),
                note=row.value("note", StageChange, "note"),
                qualification_override=override,
                override_reason=reason,
            )

        self.table(
            "stage_changes",
            [
                *("id", "lead_key", "from_stage", "to_stage", "at", "by", "note"),
                *("qualification_override", "override_reason"),
            ],
            change,
            self.history(block, StageChange),
            lambda row, obj: self.changes.__setitem__(row.integer("id"), (obj.pk, obj.lead_id)),
            "stage change",
        )

        def outcome(row: Row) -> Model:
            self.fresh_id(row)
            lead_id = self.lead(row)
            change_id, change_lead = self.old(
                row, "stage_change", self.changes, "stage_changes.csv"
            )
            if change_lead != lead_id:
                raise row.error("stage_change", "the stage change is another lead's")
            result = row.value("result", DealOutcome, "result")
            values = row.values_of(
                DealOutcome, {c: c for c in ("at", "revenue", "cost", "lost_note")}
            )
            reason_name = row.raw("lost_reason")
            if reason_name and reason_name not in self.reasons:
                raise row.error(
                    "lost_reason", f"no lost reason {reason_name!r} in lost_reasons.csv"
                )
            if result == "won" and (values["revenue"] is None or values["revenue"] < 0):
                raise row.error("revenue", "a won deal needs its revenue (0 or more)")
            if result == "won" and values["cost"] is not None and values["cost"] < 0:
                raise row.error("cost", "a cost is 0 or more")
            if result == "lost" and not reason_name:
                raise row.error("lost_reason", "a lost deal needs its reason")
            return DealOutcome(
                organization=org,
                lead_id=lead_id,
                stage_change_id=change_id,
                result=result,
                lost_reason_id=self.reasons.get(reason_name) if reason_name else None,
                **values,
            )

        self.table(
            "outcomes",
            [
                *("id", "lead_key", "stage_change", "result", "at", "revenue", "cost"),
                *("lost_reason", "lost_note"),
            ],
            outcome,
            self.history(block, DealOutcome),
            lambda row, obj: self.outcomes.__setitem__(row.integer("id"), obj.pk),
            "outcome",
        )
        line_columns = {c: c for c in ("quantity", "unit_price", "unit_cost")}
        self.table(
            "deal_lines",
            ["id", "outcome", "product", *line_columns],
            lambda row: DealLine(
                organization=org,
                outcome_id=self.old(row, "outcome", self.outcomes, "outcomes.csv"),
                product_id=self.old(row, "product", self.products, "products.csv"),
                **row.values_of(DealLine, line_columns),
            ),
            self.history(block, DealLine),
            what="deal line",
        )

        def correction(row: Row) -> Model:
            by = self.user(row, "by")
            if by is None:
                raise row.error("by", "empty: who undid the change")
            return StageCorrection(
                organization=org,
                lead_id=self.lead(row),
                change_id=row.integer("change_id"),
                change_from=self.stage(row, "change_from"),
                change_to=self.stage(row, "change_to"),
                change_by_id=self.user(row, "change_by"),
                by_id=by,
                **row.values_of(
                    StageCorrection,
                    {c: c for c in ("change_at", "change_note", "outcome", "at", "reason")},
                ),
            )

        self.table(
            "stage_corrections",
            [
                *("lead_key", "change_id", "change_from", "change_to", "change_at"),
                *("change_by", "change_note", "outcome", "at", "by", "reason"),
            ],
            correction,
            self.history(block, StageCorrection),
            what="stage correction",
        )
        touch_columns = {
            c: c for c in ("at", "campaign", "utm_source", "utm_medium", "utm_campaign", "referrer")
        }
        self.table(
            "touches",
            ["lead_key", "channel", *touch_columns],
            lambda row: Touch(
                organization=org,
                lead_id=self.lead(row),
                channel_id=self.channel(row, "channel"),
                **row.values_of(Touch, touch_columns),
            ),
            self.history(block, Touch),
            what="touch",
        )
        activity_columns = {c: c for c in ("kind", "at", "with_buyer", "outcome", "notes")}

        def activity(row: Row) -> Model:
            self.fresh_id(row)
            return Activity(
                organization=org,
                lead_id=self.lead(row),
                by_id=self.member(row, "by"),
                **row.values_of(Activity, activity_columns),
            )

        self.table(
            "activities",
            ["id", "lead_key", "by", *activity_columns],
            activity,
            self.history(block, Activity),
            lambda row, obj: self.activities.__setitem__(row.integer("id"), obj.pk),
            "activity",
        )
        self.table(
            "objections",
            ["lead_key", "activity", "tag", "text", "at", "by"],
            lambda row: Objection(
                organization=org,
                lead_id=self.lead(row),
                activity_id=(
                    self.old(row, "activity", self.activities, "activities.csv")
                    if row.raw("activity")
                    else None
                ),
                by_id=self.member(row, "by"),
                **row.values_of(Objection, {c: c for c in ("tag", "text", "at")}),
            ),
            self.history(block, Objection),
            what="objection",
        )

    # --- what refers to leads, and the rest --------------------------------------------

    def rest_read(self) -> None:
        org = self.org
        self.table(
            "qualification_answers",
            ["lead_key", "criterion", "met", "by"],
            lambda row: QualificationAnswer(
                organization=org,
                lead_id=self.lead(row),
                criterion_id=self.old(
                    row, "criterion", self.criteria, "qualification_criteria.csv"
                ),
                met=row.value("met", QualificationAnswer, "met"),
                by_id=self.user(row, "by"),
            ),
            self.plain(QualificationAnswer),
            what="qualification answer",
        )
        followup_columns = {c: c for c in ("kind", "due_on", "due_time", "note", "done_at")}
        self.table(
            "follow_ups",
            ["lead_key", "owner", "created_by", "done_by", "activity", *followup_columns],
            lambda row: FollowUp(
                organization=org,
                lead_id=self.lead(row),
                owner_id=self.member(row, "owner"),
                created_by_id=self.member(row, "created_by"),
                done_by_id=self.member(row, "done_by"),
                activity_id=(
                    self.old(row, "activity", self.activities, "activities.csv")
                    if row.raw("activity")
                    else None
                ),
                **row.values_of(FollowUp, followup_columns),
            ),
            self.plain(FollowUp),
            what="follow-up",
        )
        spend_columns = {c: c for c in ("month", "campaign", "amount", "note")}
        self.table(
            "spend",
            ["channel", "by", *spend_columns],
            lambda row: Spend(
                organization=org,
                channel_id=self.channel(row, "channel"),
                by_id=self.user(row, "by"),
                **row.values_of(Spend, spend_columns),
            ),
            self.plain(Spend),
            what="spend",
        )
        cash_columns = {c: c for c in ("month", "cash_on_hand", "monthly_fixed_costs", "note")}
        self.table(
            "cash_positions",
            ["by", *cash_columns],
            lambda row: CashPosition(
                organization=org,
                by_id=self.user(row, "by"),
                **row.values_of(CashPosition, cash_columns),
            ),
            self.plain(CashPosition),
            what="cash position",
        )

        def manual_value(row: Row) -> Model:
            key = row.raw("metric")
            if key not in self.metrics:
                raise row.error("metric", f"no manual metric {key!r} in manual_metrics.csv")
            return ManualValue(
                organization=org,
                metric_id=self.metrics[key],
                by_id=self.user(row, "by"),
                **row.values_of(ManualValue, {"month": "month", "value": "value"}),
            )

        self.table(
            "manual_values", ["metric", "month", "value", "by"], manual_value,
            self.plain(ManualValue), what="manual value",
        )  # fmt: skip
        target_columns = {c: c for c in ("metric_key", "month", "value")}
        self.table(
            "targets",
            list(target_columns),
            lambda row: Target(organization=org, **row.values_of(Target, target_columns)),
            self.plain(Target),
            what="target",
        )
        goal_columns = {c: c for c in ("metric_key", "year", "value")}
        self.table(
            "goals",
            list(goal_columns),
            lambda row: Goal(organization=org, **row.values_of(Goal, goal_columns)),
            self.plain(Goal),
            what="goal",
        )
        review_columns = {c: c for c in ("month", "kind", "text", "at")}
        self.table(
            "review_entries",
            ["by", *review_columns],
            lambda row: ReviewEntry(
                organization=org,
                by_id=self.user(row, "by"),
                **row.values_of(ReviewEntry, review_columns),
            ),
            self.plain(ReviewEntry),
            what="review entry",
        )

        def form(row: Row) -> Model:
            self.fresh_id(row)
            fields = row.raw("fields").split()
            unknown = [f for f in fields if f not in FormField.values]
            if unknown:
                raise row.error("fields", f"unknown fields {', '.join(unknown)}")
            key = row.raw("key") or new_key()
            if WebForm.objects.filter(key=key).exists():
                key = new_key()
                self.result.notes.append(
                    f"the web form {row.raw('name')!r} has a new public address (/f/{key}/): "
                    "its old one belongs to another organization here"
                )
            return WebForm(
                organization=org,
                fields=fields,
                key=key,
                **row.values_of(
                    WebForm, {c: c for c in ("name", "consent_text", "thank_you_url", "active")}
                ),
            )

        self.table(
            "web_forms",
            ["id", "name", "fields", "consent_text", "thank_you_url", "active"],
            form,
            self.plain(WebForm),
            lambda row, obj: self.forms.__setitem__(row.integer("id"), obj.pk),
            "web form",
        )
        submission_columns = {
            c: c
            for c in ("submitted_at", "consent_text", "page_url", "ip_hash", *self.CONSENT_COLUMNS)
        }
        self.table(
            "web_form_submissions",
            ["form", "lead_key", "submitted_at", "consent_text", "page_url"],
            lambda row: WebFormSubmission(
                organization=org,
                form_id=self.old(row, "form", self.forms, "web_forms.csv"),
                lead_id=self.lead(row),
                **row.values_of(WebFormSubmission, submission_columns),
            ),
            self.plain(WebFormSubmission),
            what="web form submission",
        )
        diagnosis_columns = {
            c: c for c in ("month", "as_of", "recommendation", "confidence", "payload")
        }
        self.table(
            "kept_diagnoses",
            ["by", *diagnosis_columns],
            lambda row: KeptDiagnosis(
                organization=org,
                by_id=self.user(row, "by"),
                **row.values_of(KeptDiagnosis, diagnosis_columns),
            ),
            self.plain(KeptDiagnosis),
            what="kept diagnosis",
        )


# --- the organization -------------------------------------------------------------------

#: what an organization holding records has (an empty one has only its default settings)
HOLDS = (Lead, Spend, Product, ManualMetric, Goal, Target, WebForm, CashPosition, ReviewEntry)


def _organization(slug: str, name: str | None, reader: Reader) -> Organization:
    """The organization to fill: a new one (named as the exported one unless ``name``), or an
    existing one that holds no records yet, whose default settings the archive's replace."""
    slug = slug.strip().lower()
    existing = Organization.objects.filter(slug=slug).first()  # see _money_of_archive
    if existing is None:
        exported = reader.manifest.get("organization")
        default = exported.get("name") if isinstance(exported, dict) else None
        organization = Organization(name=(name or default or slug).strip()[:200], slug=slug)
        _money_of_archive(organization, exported)
        try:
            organization.full_clean()
        except ValidationError as error:
            messages = error.message_dict if hasattr(error, "error_dict") else {}
            text = "; ".join(f"{k}: {' '.join(v)}" for k, v in messages.items()) or str(error)
            raise ArchiveError(f"cannot make the organization {slug!r}: {text}") from None
        organization.save()
        return organization
    for model in HOLDS:
        if model.objects.filter(organization=existing).exists():
            what = model._meta.verbose_name_plural
            raise ArchiveError(
                f"the organization {slug!r} holds records already ({what}): import into a new "
                "organization (a slug not taken)"
            )
    # its default settings go: the archive brings its own (and its currency)
    exported = reader.manifest.get("organization")
    if isinstance(exported, dict) and "currency" in exported:
        _money_of_archive(existing, exported)
        existing.save(update_fields=["currency", "number_locale"])
    for stage in Stage.objects.for_org(existing):
        recorder.stage_delete(stage=stage)
    defaults: tuple[type[Model], ...] = (QualificationCriterion, LostReason, Channel, MoneySettings)
    for default in defaults:
        default._default_manager.filter(organization=existing).delete()
    if name:
        existing.name = name.strip()[:200]
        existing.save(update_fields=["name"])
    return existing


def _noop(phase: str, fraction: float) -> None:
    pass


def import_archive(
    *, path: Path, slug: str, name: str | None = None, progress: Progress = _noop
) -> ArchiveImportResult:
    """Read the ``export all`` archive at ``path`` into the organization ``slug`` (new, or
    existing and empty), all or nothing. Raises :class:`ArchiveError` naming what is wrong."""
    started = time.monotonic()
    reader = Reader(path)
    try:
        progress("checking the archive", 0.0)
        reader.check()
        with transaction.atomic():
            organization = _organization(slug, name, reader)
            importer = Importer(reader, organization, progress)
            importer.members_read()
            with bulk(organization, rebuild=True) as block:
                importer.settings_read(block)
                importer.history_read(block)
                importer.rest_read()
                progress("counting the summaries", 1.0)
            _closing_check(importer)
            counts = importer.result.counts
            audit.record(
                action="imported",
                organization=organization,
                object_type="archive",
                summary=f"an export-all archive: {sum(counts.values()):,} rows "
                f"in {len(counts)} tables",
            )
    finally:
        reader.close()
    result = importer.result
    result.seconds = time.monotonic() - started
    return result


def _closing_check(importer: Importer) -> None:
    """What the archive's manifest says it holds is what was read."""
    counts = importer.reader.manifest.get("counts", {})
    if not isinstance(counts, dict):
        return
    for name, expected in counts.items():
        got = importer.result.counts.get(name)
        if got is not None and isinstance(expected, int) and got != expected:
            raise ArchiveError(
                f"{importer.reader.label}: {name}.csv holds {got} rows, its manifest says "
                f"{expected}: the archive is not whole"
            )


def _money_of_archive(organization: Organization, exported: object) -> None:
    """The exported organization's currency and number format (archives made before they
    existed keep the defaults); a bad one stops the import."""
    if not isinstance(exported, dict) or "currency" not in exported:
        return
    try:
        organization.currency = money.currency_clean(exported.get("currency"))
        organization.number_locale = money.locale_clean(
            exported.get("number_locale", organization.number_locale)
        )
    except ValidationError as error:
        text = "; ".join(" ".join(v) for v in error.message_dict.values())
        raise ArchiveError(f"manifest.json: {text}") from None
