"""Random rows never raise and never import part of a file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from keepscore.accounts.models import Organization
from keepscore.imports.services import import_leads
from keepscore.leads.models import Lead
from tests.conftest import examples
from tests.imports.conftest import write_csv

COLUMNS = ["id", "name", "email", "phone", "source", "created", "stage", "value", "revenue",
           "qualified_at", "customer_at", "lost_at", "lost_reason", "owner"]  # fmt: skip
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
date = st.dates().map(lambda d: d.isoformat()) | st.dates().map(lambda d: d.strftime("%d/%m/%Y"))
cell = st.one_of(
    text,
    date,
    st.integers(-1000, 10**15).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "lead", "customer", "lost", "Referral", "a@b.co", "+1 555 0100"]),
)
rows = st.lists(st.lists(cell, min_size=len(COLUMNS), max_size=len(COLUMNS)), max_size=6)


@settings(max_examples=examples(60))
@given(rows=rows, skip=st.booleans())
def test_random_rows_all_or_nothing(org_a: Organization, rows: list[list[str]], skip: bool) -> None:
    before = Lead.objects.for_org(org_a).count()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv(Path(tmp) / "r.csv", [COLUMNS, *rows])
        result = import_leads(organization=org_a, path=path, skip_invalid=skip)
    added = Lead.objects.for_org(org_a).count() - before
    assert added == result.created
    if result.failed:
        assert added == 0
    else:
        # everything valid went in (duplicates and, with skip, rejected rows aside)
        assert added == result.rows - result.duplicates - result.rejected
        for lead in Lead.objects.for_org(org_a).order_by("-id")[:added]:
            last = lead.stage_changes.order_by("-at", "-id").first()
            assert last is not None and last.to_stage_id == lead.stage_id
            assert last.at == lead.stage_entered_at
