"""Many history rows at once (imports, the bulk activity log, the demo), through the
recorder: :func:`bulk` opens one transaction in which the rows are written, and when the
block ends the projections count the new leads and activities (and the existing leads
whose history the rows extend, forgotten when the block began).

Two ways to write, both only here:

- :meth:`Bulk.write`: whole rows as tuples (every concrete column, id first), inserted with
  ``executemany``: ids are reserved up front (:meth:`Bulk.ids`) so stage changes and
  outcomes can point at their lead without reading anything back: from the table's
  sequence on PostgreSQL, and on SQLite (one writer at a time: the block holds the write
  lock) above the largest id ever used. Rows carry ``Bulk.created`` as their
  ``created_at``, by which the block finds them again, set-based, whatever their number;
- :meth:`Bulk.create`: model instances, written the same way (ids reserved, each field as the
  database takes it, by :func:`field_adapter`), the instances given their ids. Django's
  ``bulk_create`` compiles its SQL row by row in Python: half the demo's time went there.

The ids of the existing leads a block extends are named in the query (``pk IN (…)``) up to
:data:`IDS_INLINE` of them, and read from a temporary table beyond (SQLite takes 32,766
parameters a statement).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from keepscore.activities.models import Activity, Objection
from keepscore.common.recorded import Recorded, recording
from keepscore.history.projections import Written, registered
from keepscore.history.recorder import tell
from keepscore.leads.models import Lead

if TYPE_CHECKING:
    from keepscore.accounts.models import Organization

_HEAD = ("id", "organization_id", "created_at")

#: ids of existing leads a query names one by one; more are put in a temporary table it reads
IDS_INLINE = 2_000


class Inserter:
    """``INSERT`` of whole rows (every concrete column, id first) into one model's table."""

    def __init__(self, model: type[Model]) -> None:
        self.table = model._meta.db_table
        columns = [f.column for f in model._meta.concrete_fields]
        # id, organization_id, created_at first, whichever model redeclares its organization
        head = [c for c in _HEAD if c in columns]
        self.columns = head + [c for c in columns if c not in head]
        quote = connection.ops.quote_name
        cols = ", ".join(quote(c) for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        self.sql = f"INSERT INTO {quote(self.table)} ({cols}) VALUES ({marks})"

    def ids(self, n: int) -> Iterator[int]:
        """``n`` new ids for this table."""
        if n <= 0:
            return iter(())
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, n],
                )
                return iter([row[0] for row in cursor.fetchall()])
            # SQLite updates its AUTOINCREMENT counter past explicit ids by itself
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(self.table)}")
            top = cursor.fetchone()[0] or 0
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
            row = cursor.fetchone()
            start = max(top, row[0] if row else 0) + 1
            return iter(range(start, start + n))

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(self.sql, rows)


def datetime_adapter() -> Callable[[datetime], Any]:
    """A datetime as the database takes it (SQLite: naive text in the connection's zone)."""
    if connection.vendor != "sqlite" or not settings.USE_TZ:
        return connection.ops.adapt_datetimefield_value
    zone = connection.timezone
    utc = zone is not None and zone.utcoffset(None) == timedelta(0)

    def adapt(value: datetime) -> str:
        if utc:
            # already at offset 0 (the usual case): its text without the offset
            text = value.isoformat(" ")
            if text.endswith("+00:00"):
                return text[:-6]
        return value.astimezone(zone).replace(tzinfo=None).isoformat(" ")

    return adapt


def field_adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """A field's value as the database takes it in a whole-row insert (what Django's
    ``get_db_prep_save`` gives, without its per-call cost)."""
    ops = connection.ops
    adapt: Callable[[Any], Any]
    if isinstance(field, models.DateTimeField):
        adapt = datetime_adapter()
    elif isinstance(field, models.DateField):
        adapt = ops.adapt_datefield_value
    elif isinstance(field, models.TimeField):
        adapt = ops.adapt_timefield_value
    elif isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places
        adapt = (
            str
            if connection.vendor == "sqlite"  # what Django's SQLite backend registers
            else (lambda value: ops.adapt_decimalfield_value(value, digits, places))
        )
    elif isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda value: ops.adapt_json_value(value, encoder)
    else:
        return lambda value: value
    return lambda value: None if value is None else adapt(value)


def _stamped(field: models.Field[Any, Any]) -> bool:
    """Set to the time of writing: ``auto_now`` or ``auto_now_add``."""
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


class Bulk:
    """One block of bulk history writes for one organization (see :func:`bulk`)."""

    def __init__(self, organization: Organization, now: datetime | None) -> None:
        self.organization = organization
        #: every row's created_at: how the block finds the rows it wrote
        self.now = now or timezone.now()
        self.created = connection.ops.adapt_datetimefield_value(self.now)
        self._inserters: dict[type[Model], Inserter] = {}
        self._written: set[type[Model]] = set()
        #: per model, how :meth:`create` reads an instance's fields after the first three
        self._getters: dict[type[Model], list[Callable[[Any], Any]]] = {}
        #: temporary tables of ids: name → how many ids of its list are in it
        self._id_tables: dict[str, int] = {}
        #: rows written per table, for the planner's statistics (see ``_analyze``)
        self.rows: dict[str, int] = {}

    def _count(self, model: type[Model], n: int) -> None:
        table = model._meta.db_table
        self.rows[table] = self.rows.get(table, 0) + n

    def _inserter(self, model: type[Model]) -> Inserter:
        if not issubclass(model, Recorded):
            raise TypeError(f"{model.__name__} is not a history model")
        if model not in self._inserters:
            self._inserters[model] = Inserter(model)
        return self._inserters[model]

    def columns(self, model: type[Model]) -> list[str]:
        """The column order of :meth:`write`'s rows."""
        return self._inserter(model).columns

    def ids(self, model: type[Model], n: int) -> Iterator[int]:
        """``n`` new ids for the model's table."""
        return self._inserter(model).ids(n)

    def write(self, model: type[Model], rows: Sequence[Sequence[Any]]) -> None:
        """Insert whole rows (in :meth:`columns` order) of this organization, made now."""
        inserter = self._inserter(model)
        org, created = self.organization.pk, self.created
        if any(row[1] != org or row[2] != created for row in rows):
            raise ValueError(f"{model.__name__} rows must be this organization's, made now")
        with recording():
            inserter.write(rows)
        self._written.add(model)
        self._count(model, len(rows))

    def create(self, objs: Iterable[Model]) -> list[Any]:
        """Model instances of this organization, written as whole rows (:meth:`write`): those
        without an id are given one first. The same instances out, saved."""
        rows = list(objs)
        if not rows:
            return rows
        model = type(rows[0])
        org = self.organization.pk
        if any(type(o) is not model or o.organization_id != org for o in rows):  # type: ignore[attr-defined]
            raise ValueError("bulk.create takes history rows of one model, this organization's")
        getters = self._getters.get(model) or self._getters.setdefault(model, self._read(model))
        for obj in rows:
            # as bulk_create: an unsaved related object is refused, a saved one's id taken
            obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        new = [o for o in rows if o.pk is None]
        for obj, pk in zip(new, self.ids(model, len(new)), strict=True):
            obj.pk = pk
        self.write(model, [(o.pk, org, self.created, *(g(o) for g in getters)) for o in rows])
        stamped = [f.attname for f in model._meta.concrete_fields if _stamped(f)]
        for obj in rows:
            for attname in stamped:
                setattr(obj, attname, self.now)
            obj._state.adding = False
            obj._state.db = connection.alias
        return rows

    def _read(self, model: type[Model]) -> list[Callable[[Any], Any]]:
        """Readers of an instance's fields in :meth:`columns` order, after id, organization
        and created_at: the block's moment for the fields stamped with the time of writing."""
        by_column = {f.column: f for f in model._meta.concrete_fields}
        created = self.created

        def now(obj: Any) -> Any:
            return created

        def reader(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
            adapt, attname = field_adapter(field), field.attname
            return lambda obj: adapt(getattr(obj, attname))

        return [
            now if _stamped(by_column[c]) else reader(by_column[c]) for c in self.columns(model)[3:]
        ]

    def update(self, leads: Sequence[Lead], fields: Sequence[str], batch_size: int = 500) -> None:
        """``bulk_update`` of leads the block extends (or wrote)."""
        with recording():
            Lead.objects.bulk_update(leads, fields, batch_size)

    def _new(self, model: type[Model]) -> QuerySet[Any] | None:
        """The rows of ``model`` the block wrote, as one query (None: none)."""
        if model not in self._written:
            return None
        return model.objects.for_org(self.organization).filter(created_at=self.now)  # type: ignore[attr-defined]

    def _ids_q(self, name: str, ids: list[Any]) -> Q:
        """``pk`` among ``ids``: named in the query up to :data:`IDS_INLINE` of them, beyond
        read from a temporary table (``ks_bulk_<name>``, filled with the ids not yet in it:
        ``ids`` only grows)."""
        if len(ids) <= IDS_INLINE:
            return Q(pk__in=ids)
        table = f"ks_bulk_{name}"
        with connection.cursor() as cursor:
            if table not in self._id_tables:
                cursor.execute(f"CREATE TEMPORARY TABLE {table} (id BIGINT PRIMARY KEY)")
                self._id_tables[table] = 0
            new = ids[self._id_tables[table] :]
            for start in range(0, len(new), IDS_INLINE):
                cursor.executemany(
                    f"INSERT INTO {table} (id) VALUES (%s)",
                    [(pk,) for pk in new[start : start + IDS_INLINE]],
                )
            self._id_tables[table] = len(ids)
        return Q(pk__in=RawSQL(f"SELECT id FROM {table}", []))

    def _done(self) -> None:
        """Drop the temporary tables (a block that fails leaves none: they are rolled back)."""
        with connection.cursor() as cursor:
            for table in self._id_tables:
                cursor.execute(f"DROP TABLE {table}")
        self._id_tables.clear()


#: rows a block writes to a table before PostgreSQL's statistics of it are taken again
ANALYZE_AFTER = 5_000


def _analyze(block: Bulk) -> None:
    """On PostgreSQL, refresh the planner's statistics of the tables a block filled before the
    projections read them back: autovacuum has not seen rows not committed yet, and with a
    table it believes empty the planner picks nested loops over tens of thousands of rows
    (the summaries of a 30,000-lead import took minutes instead of seconds). ANALYZE counts
    the transaction's own new rows. SQLite plans from its indexes and needs none of this."""
    if connection.vendor != "postgresql":
        return
    tables = [t for t, n in block.rows.items() if n >= ANALYZE_AFTER]
    if tables:
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


#: rows a block writes in all before, on PostgreSQL, the tables it filled are vacuumed
VACUUM_AFTER = 50_000


def _vacuum_on_commit(block: Bulk) -> None:
    """On PostgreSQL, once a large block is committed: ``VACUUM (ANALYZE)`` the tables it
    filled and the projections' tables. Their new rows are then marked visible to all in
    the visibility map, so the reports' index-only scans read the indexes alone; until a
    vacuum does it, each index entry is checked against its row (the focus's first wins by
    channel at 1M leads: 69 ms before, 24 ms after). Autovacuum may have passed while the
    import was still writing and not come back (seen after a 1M-lead import). Seconds at
    1M leads; run after the commit (VACUUM cannot run in a transaction), so a failed block
    runs none. The block commits synchronously (as PostgreSQL does by default): after an
    asynchronous commit the new rows cannot be marked visible to all until the WAL writer
    has flushed it, and a vacuum at once would mark none."""
    if connection.vendor != "postgresql" or sum(block.rows.values()) < VACUUM_AFTER:
        return
    tables = [*block.rows, *(m._meta.db_table for p in registered() for m in p.tables)]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO on")

    def vacuum() -> None:
        with connection.cursor() as cursor:
            for table in dict.fromkeys(tables):
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")

    transaction.on_commit(vacuum)


@contextmanager
def bulk(
    organization: Organization,
    *,
    extends: Sequence[int] = (),
    rebuild: bool = False,
    now: datetime | None = None,
) -> Iterator[Bulk]:
    """A transaction of bulk history writes. ``extends``: ids of existing leads whose history
    the block changes (forgotten now, counted again at the end). ``rebuild``: compute the
    projections again from all the organization's history at the end instead (for an
    organization whose history is all written here, like the demo's). ``now``: the rows'
    ``created_at`` (default: the block's start)."""
    with transaction.atomic():
        block = Bulk(organization, now)
        extends = list(dict.fromkeys(extends))  # (once each: the temporary table's key)
        if extends and not rebuild:
            tell(hook="leads_forget", organization=organization, rows=extends)
        yield block
        _analyze(block)
        _vacuum_on_commit(block)
        if rebuild:
            tell(hook="rebuild", organization=organization)
            return
        leads = block._new(Lead)
        if extends:
            known = Lead.objects.for_org(organization).filter(block._ids_q("extends", extends))
            leads = known if leads is None else (leads | known)
        objections = block._new(Objection)
        if objections is not None and leads is not None:
            # those of the leads counted are counted with them
            objections = objections.exclude(lead__in=leads)
        activities = block._new(Activity)
        if leads is not None or objections is not None or activities is not None:
            written = Written(leads=leads, objections=objections, activities=activities)
            tell(hook="block_count", organization=organization, rows=written)
        block._done()
