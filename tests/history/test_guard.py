"""Every model the summaries are computed from is written only through the history recorder:
the models refuse ORM writes made elsewhere (at run time), and no module outside
``keepscore.history`` can get past that (read from the source)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

import keepscore
from keepscore.accounts.models import Organization
from keepscore.common.models import OrgOwned
from keepscore.common.recorded import Recorded, UnrecordedWrite
from keepscore.funnel.models import MonthBound, SummaryState
from keepscore.funnel.summary import upkeep
from keepscore.leads.models import Lead

SRC = Path(keepscore.__file__).parent
RECORDED = [m for m in apps.get_models() if issubclass(m, Recorded)]


def test_every_model_the_summaries_count_from_is_recorded() -> None:
    own = {*upkeep.TABLES, SummaryState, MonthBound}
    read = {
        value
        for value in vars(upkeep).values()
        if isinstance(value, type) and issubclass(value, OrgOwned) and value not in own
    }
    names = {m.__name__ for m in read}
    assert {"Lead", "StageChange", "DealOutcome", "Activity", "Stage"} <= names
    assert [m.__name__ for m in read if not issubclass(m, Recorded)] == []


@pytest.mark.parametrize("model", RECORDED, ids=lambda m: m.__name__)
def test_orm_writes_outside_the_recorder_are_refused(model: type[models.Model]) -> None:
    """Refused before any query is sent (no database needed)."""
    objects = model.objects  # type: ignore[attr-defined]
    writes = {
        "save": lambda: model().save(),
        "delete": lambda: model(pk=1).delete(),
        "update": lambda: objects.filter(pk=0).update(organization_id=0),
        "queryset delete": lambda: objects.filter(pk=0).delete(),
        "bulk_create": lambda: objects.bulk_create([]),
        "bulk_update": lambda: objects.bulk_update([], ["organization"]),
        "create": lambda: objects.create(),
        "update_or_create": lambda: objects.update_or_create(pk=0),
    }
    for what, write in writes.items():
        with pytest.raises(UnrecordedWrite, match=r"through keepscore\.history"):
            write()
        assert what


def _sources() -> list[tuple[Path, str]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative.parts[0] == "history" or "migrations" in relative.parts:
            continue
        out.append((relative, path.read_text(encoding="utf-8")))
    return out


def test_only_the_recorder_can_pass_the_guard() -> None:
    """``recording`` (the guard's way through) is used in keepscore.history only."""
    users = []
    for relative, text in _sources():
        if relative == Path("common/recorded.py"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module == "keepscore.common.recorded":
                names = {alias.name for alias in node.names}
                if names & {"recording", "_recording"}:
                    users.append(str(relative))
    assert users == []


def test_no_raw_sql_writes_history_tables_outside_the_recorder() -> None:
    tables = "|".join(re.escape(m._meta.db_table) for m in RECORDED)
    write = re.compile(rf"(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[\"'`]?({tables})\b", re.I)
    found = [
        f"{relative}: {match.group(0)}"
        for relative, text in _sources()
        for match in write.finditer(text)
    ]
    assert found == []
    # the bulk inserter lives in keepscore.history.bulk only
    assert [str(r) for r, text in _sources() if re.search(r"\bInserter\(", text)] == []


def test_a_big_block_refreshes_the_planners_statistics(org_a, tmp_path):
    """PostgreSQL plans the summaries' queries from its statistics: after a bulk block they
    count the block's rows (with a table it believed empty, a 30,000-lead import took
    minutes). SQLite has no such statistics to refresh."""
    from django.db import connection

    from keepscore.history.bulk import ANALYZE_AFTER
    from keepscore.imports.services import import_leads

    n = ANALYZE_AFTER + 1
    path = tmp_path / "many.csv"
    path.write_text("name,source\n" + "".join(f"L{i},Email\n" for i in range(n)))
    result = import_leads(organization=org_a, path=path, missing_dates="now")
    assert result.created == n
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, reltuples FROM pg_class "
                "WHERE relname IN ('leads_lead', 'leads_stagechange')"
            )
            assert {name: tuples >= n for name, tuples in cursor.fetchall()} == {
                "leads_lead": True,
                "leads_stagechange": True,
            }


@pytest.mark.django_db(transaction=True)
def test_a_large_bulk_block_is_vacuumed_once_committed(
    org_a: Organization, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: once a large block is committed, the tables it filled and the summaries
    are vacuumed, so every page of them is marked visible to all (the reports' index-only
    scans then read no row)."""
    from django.db import connection

    from keepscore.history import bulk
    from keepscore.imports.services import import_leads

    def vacuums() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, vacuum_count FROM pg_stat_user_tables "
                "WHERE relname IN ('leads_stagechange', 'funnel_entrycount', 'funnel_firstwin')"
            )
            return dict(cursor.fetchall())

    before = vacuums() if connection.vendor == "postgresql" else {}
    monkeypatch.setattr(bulk, "VACUUM_AFTER", 10)
    path = tmp_path / "many.csv"
    path.write_text("name,source\n" + "".join(f"L{i},Email\n" for i in range(400)))
    assert import_leads(organization=org_a, path=path, missing_dates="now").created == 400
    assert Lead.objects.filter(organization=org_a).count() == 400
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # the leads' pages (rows only inserted) all marked visible to all
            cursor.execute(
                "SELECT relpages > 0 AND relallvisible = relpages FROM pg_class "
                "WHERE relname = 'leads_lead'"
            )
            assert cursor.fetchone()[0] is True
        # the stage changes and the summaries vacuumed too, once (pages holding a row
        # updated in the block may keep its dead version until a later vacuum)
        assert vacuums() == {table: n + 1 for table, n in before.items()}
        assert len(before) == 3
