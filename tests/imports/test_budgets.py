"""An import's budgets: the cells of an XLSX's used range, and the time a web import may
run. Past either it stops with one clear line, and nothing of it is kept."""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

import pytest

from keepscore.accounts.models import Organization
from keepscore.imports import mapping
from keepscore.imports.models import ImportJob
from keepscore.leads.models import Lead, StageChange
from tests.conftest import make_org
from tests.imports.damaged import xlsx_bytes
from tests.imports.test_damaged import failed, write
from tests.imports.test_views import client_for, upload

pytestmark = pytest.mark.django_db


def test_an_xlsx_past_its_cells_budget_is_refused(
    org_a: Organization, tmp_path: Path, settings: Any
) -> None:
    settings.IMPORTS_XLSX_MAX_CELLS = 10
    # 4 rows of 3 cells: 12 > 10, counted to each row's last filled column (row 3 has 3)
    rows = [["name", "source", "email"], ["Ada", "Referral", "a@x.test"], ["Bo", "Referral", ""]]
    rows.append(["Cy", "Referral", "c@x.test"])
    problem = failed(org_a, write(tmp_path / "many.xlsx", xlsx_bytes(rows)), missing_dates="now")
    assert "more than 10 cells up to row 4" in problem and "at most 10 cells of an XLSX" in problem
    settings.IMPORTS_XLSX_MAX_CELLS = 12  # exactly the budget: imported
    from keepscore.imports.services import import_leads

    done = import_leads(organization=org_a, path=tmp_path / "many.xlsx", missing_dates="now")
    assert done.created == 3


def test_a_web_import_past_its_time_budget_keeps_nothing(monkeypatch: Any, settings: Any) -> None:
    org, owner = make_org("acme", "owner@acme.test")
    client = client_for("owner@acme.test")
    rows = "".join(f"Lead {i},l{i}@example.com,referral,Engaging,2024-01-05\n" for i in range(3000))
    url = upload(client, "Who,email,source,stage,created\n" + rows)["Location"]
    job = ImportJob.objects.get(organization=org)
    settings.IMPORTS_MAX_SECONDS = 120
    # a clock that jumps 100 s at each look: the deadline passes at the second progress report,
    # after the first batch of leads was written inside the import's transaction
    ticks = count()
    monkeypatch.setattr(mapping.time, "monotonic", lambda: 100.0 * next(ticks))
    options = {"dry_run": False, "mapping": {"Who": "name"}, "stage_map": {"Engaging": "lead"}}
    mapping.job_start(job, options, owner, background=False)
    job.refresh_from_db()
    assert job.status == "failed"
    [problem] = job.report["problems"]
    assert "ran past its time budget of 2 minutes while writing" in problem, problem
    assert "nothing of it was kept" in problem and "keepscore import leads" in problem
    assert not Lead.objects.filter(organization=org).exists()
    assert not StageChange.objects.filter(lead__organization=org).exists()
    page = client.get(url).content.decode()
    assert "ran past its time budget of 2 minutes" in page
