"""The hubspot, pipedrive and salesforce presets on sample exports written as those systems
write them: names, emails, channels, stages after the default stage map, first touches,
won leads with their dates and revenue, lost leads with their reasons, re-imports."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings

from keepscore.accounts.models import Organization
from keepscore.imports.report import ImportResult
from keepscore.imports.services import import_leads
from keepscore.leads.models import DealOutcome, Lead, StageChange
from tests.imports.conftest import write_csv

ZONE = ZoneInfo(settings.TIME_ZONE)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


def _us(text: str) -> datetime:
    """A Salesforce date, month first: ``3/15/2024``."""
    month, day, year = (int(part) for part in text.split("/"))
    return datetime(year, month, day, tzinfo=ZONE)


def _leads(org: Organization) -> dict[str, Lead]:
    leads = Lead.objects.for_org(org).select_related("stage", "channel", "owner__user")
    return {lead.external_id: lead for lead in leads}


def _history(lead: Lead) -> list[tuple[str, datetime]]:
    changes = StageChange.objects.filter(lead=lead).select_related("to_stage")
    return [(c.to_stage.key, c.at) for c in changes.order_by("at", "id")]


def _outcomes(org: Organization) -> dict[str, tuple[str, datetime, Decimal | None, str | None]]:
    """external id → (result, at, revenue, lost reason) of every deal outcome."""
    outcomes = DealOutcome.objects.for_org(org).select_related("lead", "lost_reason")
    return {
        o.lead.external_id: (
            o.result,
            o.at,
            o.revenue,
            o.lost_reason.name if o.lost_reason else None,
        )
        for o in outcomes
    }


def _ok(result: ImportResult) -> ImportResult:
    assert not result.failed, (result.problems, result.errors)
    return result


def _reimport_adds_nothing(org: Organization, path: Path, preset: str, rows: int) -> None:
    before = Lead.objects.for_org(org).count()
    again = _ok(import_leads(organization=org, path=path, preset=preset))
    assert (again.created, again.duplicates, again.outcomes) == (0, rows, 0)
    assert Lead.objects.for_org(org).count() == before


# --- HubSpot -------------------------------------------------------------------------------

HUBSPOT_HEADER = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name",
    "Lifecycle Stage", "Original Source", "Create Date", "Became a Customer Date",
]  # fmt: skip
HUBSPOT_ROWS = [
    ["51201", "Ada", "Lovelace", "Ada.Lovelace@Analytical.test", "+44 20 7946 0101",
     "Analytical Engines", "customer", "Organic Search", "2024-03-05 14:22", "2024-04-18 09:05"],
    ["51202", "Grace", "Hopper", "grace@navy.test", "", "US Navy", "salesqualifiedlead",
     "Paid Search", "2024-03-06 10:00", ""],
    ["51203", "Alan", "Turing", "alan@bletchley.test", "", "", "subscriber", "Direct Traffic",
     "2024-03-07 08:15", ""],
    ["51204", "Katherine", "Johnson", "kj@nasa.test", "(757) 555-0104", "NASA",
     "marketingqualifiedlead", "Referrals", "2024-03-08 16:40", ""],
    ["51205", "Edsger", "", "edsger@tue.test", "", "", "opportunity", "Email Marketing",
     "2024-03-09 11:11", ""],
    ["51206", "", "Hamilton", "", "", "MIT", "lead", "Social Media", "2024-03-10 07:00", ""],
    ["51207", "Barbara", "Liskov", "barbara@mit.test", "", "MIT", "customer", "Referrals",
     "2024-02-14 12:00", "2024-03-20 17:30"],
]  # fmt: skip


def test_hubspot_contacts_export(org_a: Organization, tmp_path: Path) -> None:
    # given
    path = write_csv(tmp_path / "hubspot-contacts.csv", [HUBSPOT_HEADER, *HUBSPOT_ROWS])
    sources = {
        "Organic Search": "search",
        "Paid Search": "ads",
        "Direct Traffic": "direct-traffic",  # not a channel yet: created
        "Referrals": "referral",
        "Email Marketing": "email",
        "Social Media": "social",
    }
    lifecycle = {
        "subscriber": "suspect",
        "lead": "lead",
        "marketingqualifiedlead": "lead",
        "salesqualifiedlead": "qualified",
        "opportunity": "proposal",
        "customer": "customer",
    }

    # when
    result = _ok(import_leads(organization=org_a, path=path, preset="hubspot"))

    # then
    assert (result.rows, result.created, result.duplicates) == (7, 7, 0)
    assert result.date_formats == {
        "Create Date": "YYYY-MM-DD",
        "Became a Customer Date": "YYYY-MM-DD",
    }
    assert result.new_channels == ["Direct Traffic"]
    leads = _leads(org_a)
    assert set(leads) == {row[0] for row in HUBSPOT_ROWS}
    for rid, first, last, email, phone, company, stage, source, created, won in HUBSPOT_ROWS:
        lead = leads[rid]
        assert lead.name == (f"{first} {last}".strip() or company)
        assert (lead.email, lead.phone, lead.company) == (email.lower(), phone, company)
        assert lead.channel.key == sources[source], rid
        assert lead.stage.key == lifecycle[stage], rid
        assert lead.first_touch_at == _at(created)
        if won:
            assert _history(lead) == [("suspect", _at(created)), ("customer", _at(won))]
            assert lead.stage_entered_at == _at(won)
        else:
            assert _history(lead) == [(lifecycle[stage], _at(created))]
    assert leads["51201"].name == "Ada Lovelace"
    assert leads["51206"].name == "Hamilton"
    # a contacts export has no amounts: a customer is won with revenue 0
    assert _outcomes(org_a) == {
        "51201": ("won", _at("2024-04-18 09:05"), Decimal("0.00"), None),
        "51207": ("won", _at("2024-03-20 17:30"), Decimal("0.00"), None),
    }
    assert result.outcomes == 2
    _reimport_adds_nothing(org_a, path, "hubspot", 7)


def test_hubspot_labels_and_internal_values(org_a: Organization, tmp_path: Path) -> None:
    """Newer exports write labels ("Sales Qualified Lead"), the API its internal values."""
    rows = [
        HUBSPOT_HEADER,
        ["1", "Ada", "L", "", "", "", "Sales Qualified Lead", "ORGANIC_SEARCH",
         "2024-03-05 14:22", ""],
        ["2", "Bo", "M", "", "", "", "Marketing Qualified Lead", "PAID_SOCIAL",
         "2024-03-05 14:22", ""],
        ["3", "Cy", "N", "", "", "", "Customer", "EMAIL_MARKETING", "2024-03-05 14:22",
         "2024-03-05 14:22"],
    ]  # fmt: skip
    path = write_csv(tmp_path / "hubspot.csv", rows)
    _ok(import_leads(organization=org_a, path=path, preset="hubspot"))
    leads = _leads(org_a)
    assert [(leads[i].stage.key, leads[i].channel.key) for i in "123"] == [
        ("qualified", "search"),
        ("lead", "ads"),
        ("customer", "email"),
    ]


# --- Pipedrive -----------------------------------------------------------------------------

PIPEDRIVE_HEADER = [
    "Deal - ID", "Deal - Title", "Deal - Owner", "Deal - Value", "Deal - Currency",
    "Deal - Stage", "Deal - Status", "Deal - Deal created", "Deal - Won time",
    "Deal - Lost time", "Deal - Lost reason", "Person - Name", "Person - Email",
    "Person - Phone", "Organization - Name",
]  # fmt: skip
PIPEDRIVE_ROWS = [
    ["301", "Analytical Engines deal", "Ann Seller", "12500", "EUR", "Negotiations Started",
     "won", "2024-03-05 14:22:10", "2024-04-20 16:45:00", "", "", "Ada Lovelace",
     "ada@analytical.test", "+44 20 7946 0201", "Analytical Engines"],
    ["302", "Navy deal", "Ann Seller", "4800.50", "EUR", "Proposal Made", "lost",
     "2024-03-06 09:00:00", "", "2024-04-02 10:00:00", "Price too high", "Grace Hopper",
     "grace@navy.test", "", "US Navy"],
    ["303", "Bletchley deal", "Bob Closer", "900", "EUR", "Contact Made", "lost",
     "2024-03-07 11:30:45", "", "2024-03-29 08:00:00", "", "Alan Turing", "", "+44 1908 640404",
     "Bletchley Park"],
    ["304", "NASA deal", "Bob Closer", "980.5", "EUR", "Negotiations Started", "open",
     "2024-03-08 15:00:00", "", "", "", "Katherine Johnson", "kj@nasa.test", "", "NASA"],
    ["305", "MIT deal", "", "0", "EUR", "Lead In", "open", "2024-03-09 08:20:00", "", "", "",
     "Margaret Hamilton", "", "", "MIT"],
    ["306", "TU/e deal", "Ann Seller", "", "EUR", "Qualified", "open", "2024-03-10 10:10:10",
     "", "", "", "Edsger Dijkstra", "edsger@tue.test", "", "TU Eindhoven"],
]  # fmt: skip


def test_pipedrive_deals_export(org_a: Organization, tmp_path: Path) -> None:
    # given
    path = write_csv(tmp_path / "pipedrive-deals.csv", [PIPEDRIVE_HEADER, *PIPEDRIVE_ROWS])
    stages = {
        "Lead In": "lead",
        "Contact Made": "lead",
        "Qualified": "qualified",
        "Proposal Made": "proposal",
        "Negotiations Started": "proposal",
    }

    # when
    result = _ok(import_leads(organization=org_a, path=path, preset="pipedrive"))

    # then
    assert (result.rows, result.created, result.outcomes) == (6, 6, 3)
    assert result.columns["Person - Name"] == "name"
    assert "Deal - Currency" in result.ignored_columns
    assert sorted(result.new_members) == [
        "Ann Seller <ann-seller@members.invalid>",
        "Bob Closer <bob-closer@members.invalid>",
    ]
    assert result.new_lost_reasons == ["Not recorded"]
    leads = _leads(org_a)
    for row in PIPEDRIVE_ROWS:
        deal_id, title, owner, value, _cur, stage, status, created, won, lost = row[:10]
        _reason, person, email, phone, organization = row[10:]
        lead = leads[deal_id]
        # the lead is the person; the deal's title is kept as notes
        assert (lead.name, lead.email, lead.phone) == (person, email, phone)
        assert lead.notes == title
        assert lead.company == organization
        assert lead.value == (Decimal(value).quantize(Decimal("0.01")) if value else None)
        owner_email = f"{owner.lower().replace(' ', '-')}@members.invalid" if owner else None
        assert (lead.owner.user.email if lead.owner else None) == owner_email
        assert lead.channel.key == "unknown"  # a deals export has no source
        assert lead.first_touch_at == _at(created)
        expected = {"won": "customer", "lost": "lost"}.get(status) or stages[stage]
        assert lead.stage.key == expected, deal_id
        if status == "open":
            assert _history(lead) == [(expected, _at(created))]
        else:
            assert _history(lead) == [("lead", _at(created)), (expected, _at(won or lost))]
    assert _outcomes(org_a) == {
        "301": ("won", _at("2024-04-20 16:45:00"), Decimal("12500.00"), None),
        "302": ("lost", _at("2024-04-02 10:00:00"), None, "Price too high"),
        "303": ("lost", _at("2024-03-29 08:00:00"), None, "Not recorded"),
    }
    _reimport_adds_nothing(org_a, path, "pipedrive", 6)


def test_pipedrive_plain_headers(org_a: Organization, tmp_path: Path) -> None:
    """The same export without the entity prefixes ("Title", "Status", "Won time", …)."""
    rows = [
        ["ID", "Title", "Name", "Email", "Phone", "Organization", "Stage", "Status", "Value",
         "Deal created", "Won time", "Lost time", "Lost reason", "Owner"],
        ["7", "AE deal", "Ada Lovelace", "ADA@ae.test", "", "AE", "Proposal Made", "won", "700",
         "2024-03-05 14:22:10", "2024-03-25 09:00:00", "", "", "Ann Seller"],
        ["8", "BB deal", "Bo Bravo", "", "", "BB", "Lead In", "lost", "", "2024-03-05 14:22:10",
         "", "2024-03-26 09:00:00", "No budget", ""],
        ["9", "CC deal", "", "", "", "CC", "Demo Scheduled", "open", "", "2024-03-05 14:22:10",
         "", "", "", ""],
    ]  # fmt: skip
    path = write_csv(tmp_path / "deals.csv", rows)
    result = _ok(import_leads(organization=org_a, path=path, preset="pipedrive"))
    assert result.created == 3
    leads = _leads(org_a)
    assert [(leads[i].name, leads[i].email, leads[i].stage.key) for i in "789"] == [
        ("Ada Lovelace", "ada@ae.test", "customer"),
        ("Bo Bravo", "", "lost"),
        ("CC", "", "qualified"),  # no person: the organization
    ]
    assert leads["7"].notes == "AE deal"  # the deal's title
    assert _outcomes(org_a) == {
        "7": ("won", _at("2024-03-25 09:00:00"), Decimal("700.00"), None),
        "8": ("lost", _at("2024-03-26 09:00:00"), None, "No budget"),
    }
    _reimport_adds_nothing(org_a, path, "pipedrive", 3)


def test_pipedrive_persons_export(org_a: Organization, tmp_path: Path) -> None:
    """A persons export: each person a lead at a deal's first stage; email and phone labels."""
    rows = [
        ["Person - ID", "Person - Name", "Person - Email - Work", "Person - Phone - Mobile",
         "Person - Organization", "Person - Owner"],
        ["11", "Ada Lovelace", "ada@ae.test", "+44 7700 900011", "AE", "Ann Seller"],
        ["12", "Bo Bravo", "", "+44 7700 900012", "BB", ""],
    ]  # fmt: skip
    path = write_csv(tmp_path / "persons.csv", rows)
    # a persons export has no dates: the first contact is the import's moment, as chosen
    result = _ok(
        import_leads(organization=org_a, path=path, preset="pipedrive", missing_dates="now")
    )
    assert result.created == 2 and not result.ignored_columns
    assert result.warnings_total == 2 and {w.line for w in result.warnings} == {2, 3}
    leads = _leads(org_a)
    assert [
        (leads[i].name, leads[i].email, leads[i].phone, leads[i].company, leads[i].stage.key)
        for i in ("11", "12")
    ] == [
        ("Ada Lovelace", "ada@ae.test", "+44 7700 900011", "AE", "lead"),
        ("Bo Bravo", "", "+44 7700 900012", "BB", "lead"),
    ]
    assert leads["11"].owner is not None and leads["11"].owner.user.last_name == "Seller"


# --- Salesforce ----------------------------------------------------------------------------

SALESFORCE_HEADER = [
    "Lead ID", "First Name", "Last Name", "Company", "Email", "Phone", "Lead Source",
    "Lead Status", "Created Date", "Converted Date",
]  # fmt: skip
SALESFORCE_ROWS = [
    ["00Q5g00000A1b2CEAR", "Ada", "Lovelace", "Analytical Engines", "ada@analytical.test",
     "(415) 555-0101", "Web", "Closed - Converted", "3/15/2024", "4/22/2024"],
    ["00Q5g00000A1b2DEAR", "Grace", "Hopper", "US Navy", "Grace@Navy.test", "", "Phone Inquiry",
     "Working - Contacted", "3/5/2024", ""],
    ["00Q5g00000A1b2EEAR", "Alan", "Turing", "Bletchley Park", "", "415.555.0103",
     "Partner Referral", "Closed - Not Converted", "2/29/2024", ""],
    ["00Q5g00000A1b2FEAR", "Katherine", "Johnson", "NASA", "kj@nasa.test", "",
     "Purchased List", "Open - Not Contacted", "1/13/2024", ""],
    ["00Q5g00000A1b2GEAR", "", "Hamilton", "MIT", "mh@mit.test", "", "Trade Show",
     "Open - Not Contacted", "12/1/2023", ""],
]  # fmt: skip


def test_salesforce_leads_report(org_a: Organization, tmp_path: Path) -> None:
    # given: US dates; 3/15 and 2/29 can only be month first
    path = write_csv(tmp_path / "salesforce-leads.csv", [SALESFORCE_HEADER, *SALESFORCE_ROWS])
    sources = {
        "Web": "website-form",
        "Phone Inquiry": "phone-enquiry",
        "Partner Referral": "referral",
        "Purchased List": "purchased-list",  # not a channel yet: created
        "Trade Show": "trade-show",
    }
    statuses = {
        "Open - Not Contacted": "prospect",
        "Working - Contacted": "lead",
        "Closed - Converted": "customer",
        "Closed - Not Converted": "lost",
    }

    # when
    result = _ok(import_leads(organization=org_a, path=path, preset="salesforce"))

    # then
    assert (result.rows, result.created, result.outcomes) == (5, 5, 2)
    assert result.date_formats == {"Created Date": "MM/DD/YYYY", "Converted Date": "MM/DD/YYYY"}
    assert result.new_channels == ["Purchased List"]
    leads = _leads(org_a)
    for lid, first, last, company, email, phone, source, status, created, _ in SALESFORCE_ROWS:
        lead = leads[lid]
        assert lead.name == f"{first} {last}".strip()
        assert (lead.company, lead.email, lead.phone) == (company, email.lower(), phone)
        assert lead.channel.key == sources[source], lid
        assert lead.stage.key == statuses[status], lid
        assert lead.first_touch_at == _us(created)
    assert _history(leads["00Q5g00000A1b2CEAR"]) == [
        ("prospect", _us("3/15/2024")),
        ("customer", _us("4/22/2024")),
    ]
    # lost without a date of its own: lost at the last date the row gives
    assert _history(leads["00Q5g00000A1b2EEAR"]) == [
        ("prospect", _us("2/29/2024")),
        ("lost", _us("2/29/2024")),
    ]
    assert _history(leads["00Q5g00000A1b2DEAR"]) == [("lead", _us("3/5/2024"))]
    assert _outcomes(org_a) == {
        "00Q5g00000A1b2CEAR": ("won", _us("4/22/2024"), Decimal("0.00"), None),
        "00Q5g00000A1b2EEAR": ("lost", _us("2/29/2024"), None, "Not recorded"),
    }
    _reimport_adds_nothing(org_a, path, "salesforce", 5)


def test_salesforce_ambiguous_dates_need_the_format(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        SALESFORCE_HEADER,
        ["1", "Ada", "L", "AE", "", "", "Web", "Working - Contacted", "3/5/2024", ""],
        ["2", "Bo", "M", "BB", "", "", "Web", "Closed - Converted", "4/6/2024", "5/7/2024"],
    ]
    path = write_csv(tmp_path / "sf.csv", rows)
    refused = import_leads(organization=org_a, path=path, preset="salesforce")
    assert refused.failed and "ambiguous" in refused.problems[0]
    assert not Lead.objects.for_org(org_a).exists()

    done = _ok(
        import_leads(organization=org_a, path=path, preset="salesforce", date_format="MM/DD/YYYY")
    )
    assert done.created == 2
    leads = _leads(org_a)
    assert leads["1"].first_touch_at == _at("2024-03-05")
    assert _history(leads["2"]) == [
        ("prospect", _at("2024-04-06")),
        ("customer", _at("2024-05-07")),
    ]


def test_duplicates_across_files_by_email_and_phone(org_a: Organization, tmp_path: Path) -> None:
    """Another system's export of the same people: matched on email or phone, not on id."""
    _ok(
        import_leads(
            organization=org_a,
            path=write_csv(tmp_path / "hs.csv", [HUBSPOT_HEADER, *HUBSPOT_ROWS]),
            preset="hubspot",
        )
    )
    rows = [
        SALESFORCE_HEADER,
        ["00Q1", "Ada", "Lovelace", "AE", "ADA.LOVELACE@analytical.test", "", "Web",
         "Working - Contacted", "3/15/2024", ""],
        ["00Q2", "Kat", "Johnson", "NASA", "", "757.555.0104", "Web", "Working - Contacted",
         "3/15/2024", ""],
        ["00Q3", "New", "Person", "NP", "new@np.test", "", "Web", "Working - Contacted",
         "3/15/2024", ""],
    ]  # fmt: skip
    result = _ok(
        import_leads(
            organization=org_a, path=write_csv(tmp_path / "sf.csv", rows), preset="salesforce"
        )
    )
    assert (result.created, result.duplicates) == (1, 2)
    assert [(d.line, d.column) for d in result.duplicate_rows] == [
        (2, "email"),
        (3, "phone"),
    ]  # the key each matched by
    assert Lead.objects.for_org(org_a).count() == len(HUBSPOT_ROWS) + 1


def test_salesforce_twelve_hour_times(org_a: Organization, tmp_path: Path) -> None:
    # given: Salesforce's "Created Date" with a 12-hour time, as its reports write it
    rows = [
        SALESFORCE_HEADER,
        ["1", "Ada", "L", "AE", "", "", "Web", "Working - Contacted", "3/15/2024 2:22 PM", ""],
        ["2", "Bo", "M", "BB", "", "", "Web", "Working - Contacted", "3/16/2024 12:05 AM", ""],
        ["3", "Cy", "N", "CC", "", "", "Web", "Working - Contacted", "3/17/2024 12:30 p.m.", ""],
        ["4", "Di", "O", "DD", "", "", "Web", "Working - Contacted", "3/18/2024 9:00 am", ""],
    ]
    path = write_csv(tmp_path / "sf.csv", rows)

    # when
    _ok(import_leads(organization=org_a, path=path, preset="salesforce"))

    # then: PM adds 12 hours, 12 AM is midnight, 12 PM is noon
    leads = _leads(org_a)
    assert leads["1"].first_touch_at == _at("2024-03-15 14:22")
    assert leads["2"].first_touch_at == _at("2024-03-16 00:05")
    assert leads["3"].first_touch_at == _at("2024-03-17 12:30")
    assert leads["4"].first_touch_at == _at("2024-03-18 09:00")


def test_twelve_hour_time_past_twelve_is_a_bad_date(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        SALESFORCE_HEADER,
        ["1", "Ada", "L", "AE", "", "", "Web", "Working - Contacted", "3/15/2024 13:22 PM", ""],
    ]
    refused = import_leads(
        organization=org_a, path=write_csv(tmp_path / "sf.csv", rows), preset="salesforce"
    )
    assert refused.failed
    assert [(e.line, e.column) for e in refused.errors] == [(2, "Created Date")]
    assert not Lead.objects.for_org(org_a).exists()
