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


UPLOAD = (
    "id,name,email,phone,source,stage,created,value\n"
    "E1,Ada,ada@x.com,555 0101,Referral,lead,2024-01-02,\n"
    "E2,Bo,bo@x.com,555 0102,Podcast,customer,2024-01-03,90\n"
)


def test_an_upload_lists_what_it_would_create_then_names_the_duplicates(api_a, org_a):
    response = api_a.upload("/import-jobs", "a.csv", UPLOAD.encode(), dry_run="true")
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["status"] == "dry_run"
    assert job["would_create"]["channels"] == ["Podcast"]
    assert job["would_create"]["stages"] == {"Lead": 1, "Customer": 1}
    assert list(job["would_create"]["stages"]) == ["Lead", "Customer"]
    assert api_a.upload("/import-jobs", "a.csv", UPLOAD.encode()).json()["created"] == 2
    ada = Lead.objects.get(organization=org_a, external_id="E1")
    # the same people again: one by Ada's phone only, one by Bo's email
    again = (
        "id,name,email,phone,source,stage,created,value\n"
        ",Ada's desk,,(555) 0101,Referral,lead,2024-01-04,\n"
        ",Bo B.,BO@x.com,,Referral,lead,2024-01-04,\n"
    )
    job = api_a.upload("/import-jobs", "b.csv", again.encode(), dry_run="true").json()
    assert [(d["line"], d["key"], d["matched_lead"]) for d in job["duplicate_rows"]] == [
        (2, "phone", ada.pk),
        (3, "email", Lead.objects.get(organization=org_a, external_id="E2").pk),
    ]
    assert job["duplicate_rows"][0]["reason"] == f"same phone as lead #{ada.pk} “Ada”"
    # phone is not a key: Ada's desk is a new lead
    job = api_a.upload("/import-jobs", "b.csv", again.encode(), match="id,email").json()
    assert job["status"] == "imported" and (job["created"], job["duplicates"]) == (1, 1)
    bad = api_a.upload("/import-jobs", "b.csv", again.encode(), match="email,fax")
    assert bad.status_code == 422 and "'fax' is not id, email or phone" in bad.content.decode()


def test_an_upload_updates_the_leads_it_matches(api_a, org_a):
    assert api_a.upload("/import-jobs", "a.csv", UPLOAD.encode()).json()["created"] == 2
    ada = Lead.objects.get(organization=org_a, external_id="E1")
    first_change = list(ada.stage_changes.values_list("id", "to_stage__key", "at"))
    changed = (
        "id,name,email,phone,source,stage,created,value\n"
        "E1,Ada,ada@x.com,555 0199,Referral,customer,2024-01-02,700\n"
    )
    job = api_a.upload("/import-jobs", "c.csv", changed.encode(), update="true").json()
    assert job["status"] == "imported", job
    assert (job["updated"], job["created"], job["duplicates"]) == (1, 0, 0)
    ada.refresh_from_db()
    assert (ada.phone, ada.stage.key) == ("555 0199", "customer")
    history = list(ada.stage_changes.order_by("id").values_list("id", "to_stage__key", "at"))
    assert history[:1] == first_change and [k for _i, k, _a in history[1:]] == ["customer"]
