"""The check lists what the import creates: members, channels, campaigns, lost reasons, facts,
and the new leads per stage; the same lists after the import, in the CLI, the app, the API.

The expected lists are computed from the file with the csv module and the organization's
records, apart from the engine, and checked again against what the import did create.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from django.test import Client
from typer.testing import CliRunner

from keepscore.accounts.models import Membership, Organization
from keepscore.cli.main import app
from keepscore.imports.models import ImportJob
from keepscore.imports.services import import_leads
from keepscore.leads.models import Channel, Lead, LostReason, Stage
from keepscore.leads.services import lead_create
from tests.conftest import channel
from tests.imports.conftest import write_csv

runner = CliRunner()

ROWS = [
    ["name", "email", "source", "owner", "sourced_by", "campaign", "stage", "created", "value",
     "lost_reason"],
    ["Ada", "ada@x.com", "Referral", "owner@acme.test", "Mia Marketing", "Spring", "lead",
     "2024-01-02", "", ""],
    ["Bo", "bo@x.com", "Trade fair", "Ann Seller", "", "Summer", "customer", "2024-01-03", "900",
     ""],
    ["Cy", "cy@x.com", "trade fair", "Ann Seller", "", "Summer", "lost", "2024-01-04", "",
     "Too slow"],
    ["Di", "di@x.com", "Podcast", "", "", "", "lead", "2024-01-05", "", ""],
    ["Ed", "ed@x.com", "Referral", "", "", "Autumn", "lost", "2024-01-05", "",
     "price too high"],
    ["Ada again", "ada@x.com", "Radio", "Zed New", "", "Winter", "lost", "2024-01-06", "5",
     "Gone quiet"],
]  # fmt: skip


def expected(org: Organization, rows: list[list[str]]) -> dict[str, Any]:
    """What the file creates, from the file and the organization's records."""
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    seen: set[str] = set()
    kept = []
    for row in body:
        if row["email"] in seen:
            continue  # a duplicate: creates nothing
        seen.add(row["email"])
        kept.append(row)
    channels = {
        c.lower()
        for pair in Channel.objects.filter(organization=org).values_list("name", "key")
        for c in pair
    }
    reasons = {
        r.lower()
        for r in LostReason.objects.filter(organization=org).values_list("name", flat=True)
    }
    emails = set(Membership.objects.filter(organization=org).values_list("user__email", flat=True))
    campaigns = set(Lead.objects.filter(organization=org).values_list("campaign", flat=True))

    def distinct(values: list[str], known: set[str], fold: bool = True) -> list[str]:
        out: list[str] = []
        for v in values:
            key = v.lower() if fold else v
            if v and key not in known and key not in [o.lower() if fold else o for o in out]:
                out.append(v)
        return out

    ladder = list(Stage.objects.filter(organization=org).order_by("position", "id"))
    names = {s.key: s.name for s in ladder}
    counts = {names[r["stage"]]: 0 for r in kept}
    for r in kept:
        counts[names[r["stage"]]] += 1
    # new members: owners and who sourced leads that are not members, as they appear
    people: dict[str, set[str]] = {}
    for row in kept:  # a duplicate's owner, source or lost reason creates nothing
        for column, role in (("owner", "sales"), ("sourced_by", "marketing")):
            if row[column] and row[column] not in emails:
                people.setdefault(row[column], set()).add(role)
    return {
        "members": people,
        "channels": distinct([r["source"] for r in kept], channels),
        "campaigns": distinct([r["campaign"] for r in kept], campaigns, fold=False),
        "lost_reasons": distinct([r["lost_reason"] for r in kept], reasons),
        "stages": {s.name: counts[s.name] for s in ladder if s.name in counts},
    }


def _org_with_spring(org: Organization) -> None:
    owner = Membership.objects.get(organization=org, is_owner=True)
    lead_create(organization=org, name="Old", channel=channel(org), by=owner, campaign="Spring")


def test_dry_run_lists_what_the_import_then_creates(org_a: Organization, tmp_path: Path) -> None:
    _org_with_spring(org_a)
    want = expected(org_a, ROWS)
    assert want["stages"] == {"Lead": 2, "Customer": 1, "Lost": 2}  # the file, by hand
    path = write_csv(tmp_path / "f.csv", ROWS)
    dry = import_leads(organization=org_a, path=path, dry_run=True)
    assert not dry.failed, dry.errors
    would = dry.would_create
    assert set(would) == {"members", "channels", "campaigns", "lost_reasons", "facts", "stages"}
    assert {m["name"]: set(m["roles"]) for m in would["members"]} == want["members"]
    assert would["channels"] == want["channels"] == ["Trade fair", "Podcast"]
    assert would["campaigns"] == want["campaigns"] == ["Summer", "Autumn"]
    assert would["lost_reasons"] == want["lost_reasons"] == ["Too slow"]
    assert would["facts"] == []
    assert list(would["stages"].items()) == list(want["stages"].items())  # ladder order
    assert ImportJob.objects.get(pk=dry.job_id).report["would_create"] == would
    assert Lead.objects.for_org(org_a).count() == 1  # nothing written

    channels_before = set(Channel.objects.for_org(org_a).values_list("name", flat=True))
    reasons_before = set(LostReason.objects.for_org(org_a).values_list("name", flat=True))
    members_before = set(Membership.objects.filter(organization=org_a).values_list("pk", flat=True))
    done = import_leads(organization=org_a, path=path)
    assert not done.failed and done.would_create == would
    new_channels = (
        set(Channel.objects.for_org(org_a).values_list("name", flat=True)) - channels_before
    )
    assert new_channels == set(would["channels"])
    new_reasons = (
        set(LostReason.objects.for_org(org_a).values_list("name", flat=True)) - reasons_before
    )
    assert new_reasons == set(would["lost_reasons"])
    new_members = Membership.objects.filter(organization=org_a).exclude(pk__in=members_before)
    assert {m.user.email for m in new_members} == {m["email"] for m in would["members"]}
    created = Lead.objects.for_org(org_a).exclude(name="Old").select_related("stage")
    per_stage: dict[str, int] = {}
    for lead in created:
        per_stage[lead.stage.name] = per_stage.get(lead.stage.name, 0) + 1
    assert per_stage == would["stages"]
    assert {lead.campaign for lead in created} - {"", "Spring"} == set(would["campaigns"])


def test_cli_says_what_it_would_create_and_what_it_created(
    org_a: Organization, tmp_path: Path
) -> None:
    _org_with_spring(org_a)
    path = write_csv(tmp_path / "f.csv", ROWS)
    out = runner.invoke(app, ["import", "leads", str(path), "--org", "acme", "--dry-run"])
    assert out.exit_code == 0, out.output
    text = " ".join(out.stdout.split())  # the console wraps long lines
    listed = (
        "2 members (Mia Marketing <mia-marketing@members.invalid> as marketing, Ann Seller "
        "<ann-seller@members.invalid> as sales), 2 channels (Trade fair, Podcast), "
        "2 campaigns (Summer, Autumn), 1 lost reason (Too slow); "
        "leads per stage: Lead 2, Customer 1, Lost 2."
    )
    assert "Would create: " + listed in text
    out = runner.invoke(app, ["import", "leads", str(path), "--org", "acme"])
    assert out.exit_code == 0, out.output
    assert "Created: " + listed in " ".join(out.stdout.split())


def test_app_check_shows_the_lists(org_a: Organization, tmp_path: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    _org_with_spring(org_a)
    client = Client()
    client.force_login(Membership.objects.get(organization=org_a, is_owner=True).user)
    with (tmp_path / "f.csv").open("w", newline="") as f:
        csv.writer(f).writerows(ROWS)
    file = SimpleUploadedFile("f.csv", (tmp_path / "f.csv").read_bytes(), content_type="text/csv")
    url = client.post("/o/acme/import/", {"file": file, "kind": "leads", "preset": "plain"})[
        "Location"
    ]
    page = client.get(url).content.decode()
    data: dict[str, Any] = {}
    for name, body in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        data[name] = chosen.group(1) if chosen else ""
    client.post(url, {**data, "new_members": "on", "action": "check"})
    page = client.get(url).content.decode()
    assert "Would create" in page
    assert 'data-would="channels">2: Trade fair, Podcast<' in page
    assert 'data-would="campaigns">2: Summer, Autumn<' in page
    assert 'data-would="lost-reasons">1: Too slow<' in page
    assert 'data-would="stages">Lead 2, Customer 1, Lost 2<' in page
    assert "Ann Seller &lt;ann-seller@members.invalid&gt; (sales)" in page
    assert Lead.objects.for_org(org_a).count() == 1
