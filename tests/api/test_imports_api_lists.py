"""GET /import-jobs/{id}: what the import creates (would_create), the duplicates with the lead
each matched, and the leads updated."""

from __future__ import annotations

import pytest

from keepscore.imports.services import import_leads
from keepscore.leads.models import Lead
from tests.imports.conftest import write_csv

pytestmark = pytest.mark.django_db

HEADER = ["id", "name", "email", "source", "stage", "created", "value"]


def test_job_detail_lists_would_create_duplicates_and_updated(api_a, owner_a, org_a, tmp_path):
    first = [HEADER, ["E1", "Ada", "ada@x.com", "Referral", "lead", "2024-01-02", ""]]
    assert not import_leads(organization=org_a, path=write_csv(tmp_path / "1.csv", first)).failed
    ada = Lead.objects.get(organization=org_a, external_id="E1")
    rows = [
        HEADER,
        ["", "Ada L.", "ADA@x.com", "Podcast", "lead", "2024-01-03", ""],
        ["E2", "Bo", "bo@x.com", "Podcast", "customer", "2024-01-04", "90"],
        ["", "Bo again", "bo@x.com", "Referral", "lead", "2024-01-05", ""],
        ["E3", "Cy", "cy@x.com", "Referral", "lead", "2024-01-06", ""],
    ]
    result = import_leads(
        organization=org_a, path=write_csv(tmp_path / "2.csv", rows), by=owner_a, dry_run=True
    )
    job = api_a.get(f"/import-jobs/{result.job_id}").json()
    assert job["would_create"] == {
        "members": [],
        "channels": ["Podcast"],
        "campaigns": [],
        "lost_reasons": [],
        "facts": [],
        "stages": {"Lead": 1, "Customer": 1},
    }
    assert list(job["would_create"]["stages"]) == ["Lead", "Customer"]  # the ladder's order
    assert job["duplicate_rows"] == [
        {
            "line": 2,
            "key": "email",
            "reason": f"same email as lead #{ada.pk} “Ada”",
            "matched_lead": ada.pk,
        },
        {
            "line": 4,
            "key": "email",
            "reason": "same email as line 3 of this file",
            "matched_lead": None,
        },
    ]
    assert job["duplicates"] == 2 and job["updated"] == 0

    result = import_leads(
        organization=org_a, path=write_csv(tmp_path / "2.csv", rows), by=owner_a, update=True
    )
    job = api_a.get(f"/import-jobs/{result.job_id}").json()
    assert job["updated"] == 1 and job["created"] == 2 and job["duplicates"] == 1
    ada.refresh_from_db()
    assert ada.name == "Ada L." and ada.channel.key == "referral"
