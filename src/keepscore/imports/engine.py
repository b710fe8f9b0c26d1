"""The lead import's engine as set up: the ladder, the columns' fields, and the lookups.

:class:`ImportSetup` reads the organization's ladder, the file's header with the mapping
(which column feeds which field) and the defaults, and loads the lookups of channels,
members and lost reasons that the rows add to (the write creates the new ones). Each pass
adds its methods in a subclass, one a module: :mod:`~keepscore.imports.date_columns`,
:mod:`~keepscore.imports.rows` and :mod:`~keepscore.imports.fast_rows` (one row),
:mod:`~keepscore.imports.checking`, then :mod:`~keepscore.imports.writing`, whose
:class:`~keepscore.imports.writing.LeadImport` is the whole engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.utils import timezone
from django.utils.text import slugify

from keepscore.accounts.models import Membership, Organization
from keepscore.common.validation import CLOCK_SKEW
from keepscore.imports.cells import EMAIL, TEXT_LIMITS, local_zone, money_parse, short
from keepscore.imports.dates import ColumnDates, DateFormat, date_format_parse, date_reader
from keepscore.imports.headers import FACT_PREFIX, LABELS, columns_guess, field_key, stage_label
from keepscore.imports.options import defaults_check, missing_dates_check
from keepscore.imports.presets import FIELDS, IGNORE, Preset
from keepscore.imports.readers import FileProblem, Table
from keepscore.imports.report import ImportResult
from keepscore.leads.models import Channel, LostReason, QualificationCriterion, Stage, StageKind

#: a pass's progress report: (what it is doing, the fraction done)
Progress = Callable[[str, float], None]
MAX_NEW_CHANNELS = 200
NEW_MEMBER_DOMAIN = "members.invalid"
#: a lead fact's name (``--map "Product=fact:product"``) and value, at most
FACT_NAME_MAX = 50
FACT_VALUE_MAX = 200


class Parsed(NamedTuple):
    """One valid row, compact enough to keep a batch in memory.

    Once kept for the write (:meth:`~keepscore.imports.checking.RowCheck.ready`), its
    amounts and datetimes are the database's values (SQLite: text), which are cheap to spill
    and to insert.
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


class ImportSetup:
    """The engine's set-up: what every pass reads (see the module's docstring)."""

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
        self.zone = local_zone()
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
            if k in TEXT_LIMITS and k not in ("source", "lost_reason")
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
            (name, i, limit) for name, limit in TEXT_LIMITS.items() for i in fields.get(name, ())
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
                        f"--map {column.strip()}: the fact's name {short(fact)} is longer "
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

    # --- the lookups: what the rows name, found or added --------------------------------

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
                    f"{short(source)} is not a channel, and the file already has "
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
                    f"{short(owner)} is not a member; map it with --owner-map or allow new members",
                )
            )
            return ""
        if email and not EMAIL.fullmatch(email.lower()):
            errors.append((self._column_name(field), f"{short(email)} is not an email address"))
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
