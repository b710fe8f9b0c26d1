"""An archive's rows mapped onto this organization: members, channels, stages, exported ids.

:class:`ArchiveMapping` holds the maps from the archive's names and exported ids to the new
rows (members and users by email, channels and stages by key, the rest by id), writes a
table's rows in batches (:meth:`~ArchiveMapping.table`), and reads the members and the
settings the records refer to; :class:`~keepscore.imports.archive_records.Importer` reads
the records on top of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model

from keepscore.accounts.models import Membership, Organization, User
from keepscore.economics.models import MoneySettings, Product
from keepscore.history.bulk import Bulk
from keepscore.imports.archive_files import Reader, Row
from keepscore.imports.archive_writing import BATCH, batch_insert
from keepscore.leads.models import Channel, LostReason, QualificationCriterion, Stage
from keepscore.scorecard.models import ManualMetric

Progress = Callable[[str, float], None]


@dataclass
class ArchiveImportResult:
    organization: Organization
    counts: dict[str, int] = field(default_factory=dict)
    new_users: list[str] = field(default_factory=list)
    joined_users: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


class ArchiveMapping:
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
            done = batch_insert(batch, create, what)
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
        return block.create

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
