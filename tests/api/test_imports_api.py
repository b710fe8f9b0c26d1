"""GET /import-jobs and /import-jobs/{id}: the token's organization's imports only."""

from __future__ import annotations

import pytest

from keepscore.imports.services import import_leads
from tests.imports.conftest import write_csv

pytestmark = pytest.mark.django_db


def test_list_and_read_an_import_job(api_a, owner_a, org_a, tmp_path):
    rows = [["name", "source", "created"], ["Ada", "referral", "2024-01-05"]]
    rows.append(["Bad", "referral", "not a date"])
    result = import_leads(organization=org_a, path=write_csv(tmp_path / "a.csv", rows), by=owner_a)
    listed = api_a.get("/import-jobs")
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 1 and body["items"][0]["id"] == result.job_id
    assert body["items"][0]["created_by"] == "owner@acme.test"
    job = api_a.get(f"/import-jobs/{result.job_id}").json()
    assert job["status"] == "failed" and job["rows"] == 2
    assert job["errors"][0] == {
        "line": 3,
        "column": "created",
        "reason": job["errors"][0]["reason"],
    }
    assert job["errors_total"] == 1


def test_another_organizations_job_is_404(api_a, api_b, org_b, tmp_path):
    rows = [["name", "source"], ["Bea", "referral"]]
    result = import_leads(organization=org_b, path=write_csv(tmp_path / "b.csv", rows))
    assert api_a.get(f"/import-jobs/{result.job_id}").status_code == 404
    assert api_a.get("/import-jobs").json() == {"items": [], "count": 0}
    assert api_b.get("/import-jobs").json()["count"] == 1
    assert api_a.get("/import-jobs", limit=0).status_code == 422
