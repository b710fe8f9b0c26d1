"""Date formats settled from a sample, then confirmed by the check over the whole column.

A file longer than ``DATE_SAMPLE`` rows is not read once more just for its dates: the
formats of its first rows are used, the check watches the rest, and the outcome must be the
same as when the whole column is read first (here: a sample of 3 rows against no sample).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keepscore.accounts.models import Organization
from keepscore.accounts.services import organization_create
from keepscore.imports import date_columns
from keepscore.imports.dates import ColumnDates
from keepscore.imports.report import ImportResult
from keepscore.imports.services import import_leads
from keepscore.leads.models import Lead
from tests.imports.conftest import write_csv

HEADER = ["name", "email", "source", "created", "stage"]


def _rows(dates: list[str]) -> list[list[str]]:
    return [HEADER] + [[f"L{i}", f"l{i}@x.com", "Referral", d, ""] for i, d in enumerate(dates)]


CASES = {
    # the sample settles, the rest agrees
    "consistent": ["2020-01-05"] * 3 + ["2021-06-07 08:09"] * 4,
    # the sample settles on DD/MM/YYYY (every day agrees), the rest is ambiguous
    "ambiguous_later": ["12/12/2018"] * 3 + ["03/04/2018"] * 4,
    # a second format after the sample
    "mixed_later": ["2020-01-05"] * 3 + ["03/04/2018"] * 4,
    # the sample settles on DD/MM/YYYY, the whole column only reads as MM/DD/YYYY
    "other_format_later": ["01/01/2020"] * 3 + ["02/13/2020"] * 4,
    # the sample is ambiguous, the whole column is not
    "ambiguous_sample": ["03/04/2018"] * 3 + ["13/04/2018"] * 4,
    # a bad date after the sample
    "bad_later": ["2020-01-05"] * 3 + ["soon"] + ["2020-01-06"] * 3,
}


def _settled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A spy on :meth:`ColumnDates.settle`: the column of each settling from now on."""
    settled: list[str] = []
    settle = ColumnDates.settle

    def spy(self: ColumnDates) -> object:
        settled.append(self.column)
        return settle(self)

    monkeypatch.setattr(ColumnDates, "settle", spy)
    return settled


def _run(tmp_path: Path, slug: str, dates: list[str], dry_run: bool) -> tuple[object, ...]:
    org: Organization = organization_create(name=slug, slug=slug)
    path = write_csv(tmp_path / f"{slug}.csv", _rows(dates))
    result: ImportResult = import_leads(organization=org, path=path, dry_run=dry_run)
    touches = sorted(
        str(t) for t in Lead.objects.for_org(org).values_list("first_touch_at", flat=True)
    )
    return (
        result.failed,
        result.imported,
        result.problems,
        result.rows,
        result.created,
        [(e.line, e.column, e.reason) for e in result.errors],
        result.date_formats,
        touches,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_sample_gives_the_same_result_as_the_whole_column(
    case: str, dry_run: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settled = _settled(monkeypatch)
    whole = _run(tmp_path, "whole", CASES[case], dry_run)
    assert settled == ["created"]  # the whole column at once
    settled.clear()
    monkeypatch.setattr(date_columns, "DATE_SAMPLE", 3)
    sampled = _run(tmp_path, "sampled", CASES[case], dry_run)
    # the sample, then the whole column (watched by the check, or read before it)
    assert settled == ["created", "created"]
    assert sampled == whole


@pytest.mark.django_db
def test_other_format_later_is_read_in_the_whole_columns_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(date_columns, "DATE_SAMPLE", 3)
    settled = _settled(monkeypatch)
    failed, imported, _p, _r, created, errors, formats, touches = _run(
        tmp_path, "later", CASES["other_format_later"], False
    )
    assert imported and not failed and created == 7 and not errors
    assert formats == {"created": "MM/DD/YYYY"}
    assert settled == ["created", "created"]  # the sample's format, then the whole column's
    assert [t[:10] for t in touches] == ["2020-01-01"] * 3 + ["2020-02-13"] * 4  # type: ignore[union-attr]
