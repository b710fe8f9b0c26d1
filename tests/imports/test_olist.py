"""The Olist marketing funnel: 8,000 leads, 842 won, counted independently with csv."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from keepscore.accounts.models import Membership, Organization
from keepscore.history import recorder
from keepscore.imports.deals import import_deals
from keepscore.imports.services import import_leads
from keepscore.leads.models import DealOutcome, Lead, StageChange
from tests.imports.conftest import olist_dir

LEADS = "olist_marketing_qualified_leads_dataset.csv"
DEALS = "olist_closed_deals_dataset.csv"


def _read(name: str) -> list[dict[str, str]]:
    with (olist_dir() / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_olist_leads_and_deals(org_a: Organization) -> None:
    # given: the counts, computed from the files themselves
    leads_rows, deal_rows = _read(LEADS), _read(DEALS)
    origin = {r["mql_id"]: (r["origin"] or "unknown") for r in leads_rows}
    leads_per_channel = Counter(origin.values())
    won_per_channel = Counter(origin[r["mql_id"]] for r in deal_rows)
    zone = ZoneInfo(settings.TIME_ZONE)

    # when
    leads = import_leads(organization=org_a, path=olist_dir() / LEADS, preset="olist")
    deals = import_deals(organization=org_a, path=olist_dir() / DEALS, preset="olist")

    # then
    assert not leads.failed and not deals.failed, (leads.problems, deals.errors[:3])
    assert leads.created == 8000 and deals.created == 842
    assert leads.date_formats == {"first_contact_date": "DD-MM-YYYY"}
    qs = Lead.objects.for_org(org_a)
    assert qs.count() == 8000
    per_channel = Counter(k for (k,) in qs.values_list("channel__key"))
    assert per_channel == leads_per_channel
    won = DealOutcome.objects.for_org(org_a).filter(result="won")
    assert won.count() == 842
    assert Counter(k for (k,) in won.values_list("lead__channel__key")) == won_per_channel

    by_id = {r["mql_id"]: r for r in leads_rows}
    for external_id, first_touch in qs.values_list("external_id", "first_touch_at"):
        expected = datetime.strptime(by_id[external_id]["first_contact_date"], "%d-%m-%Y")
        assert first_touch == expected.replace(tzinfo=zone)
    won_at = dict(won.values_list("lead__external_id", "at"))
    for row in deal_rows:
        expected = datetime.strptime(row["won_date"], "%d-%m-%Y %H:%M").replace(tzinfo=zone)
        assert won_at[row["mql_id"]] == expected

    # the lead's stage is its last change's; SR owns it; facts kept; both roles recorded
    one = qs.get(external_id=deal_rows[0]["mql_id"])
    assert one.stage.key == "customer" and one.stage_entered_at == won_at[one.external_id]
    assert one.facts["business_segment"] == deal_rows[0]["business_segment"]
    assert one.owner is not None and one.owner.is_sales
    change = StageChange.objects.get(lead=one, to_stage__key="customer")
    assert change.by == one.owner.user
    assert change.qualification_override and change.override_reason == "imported"
    sdr = Membership.objects.get(organization=org_a, user__email__startswith=deal_rows[0]["sdr_id"])
    assert sdr.is_marketing and not sdr.user.has_usable_password()
    assert one.sourced_by == sdr  # the SDR who qualified it brought it in; the SR owns it
    assert StageChange.objects.for_org(org_a).filter(from_stage=None).count() == 8000
    # the summaries, counted by the recorder's bulk writer, agree with the history
    assert recorder.verify(organization=org_a) == []

    # and importing both again adds nothing, and says so
    again = import_leads(organization=org_a, path=olist_dir() / LEADS, preset="olist")
    deals_again = import_deals(organization=org_a, path=olist_dir() / DEALS, preset="olist")
    assert (again.created, again.duplicates) == (0, 8000)
    assert (deals_again.created, deals_again.duplicates) == (0, 842)
    assert StageChange.objects.for_org(org_a).count() == 8842
