"""Presets: how the exports people actually have map onto a lead's fields.

A preset maps a file's headers (any case) to fields, and carries default value maps for the
stage column. The ladder's own stage keys and names always map too. Fields:

``external_id name first_name last_name company email phone notes source campaign utm_source
utm_medium utm_campaign owner sourced_by value created stage revenue cost lost_reason status
won_at lost_at closed_at`` and ``<stage_key>_at`` for any stage of the ladder; ``-`` ignores a
column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

FIELDS = (
    "external_id",
    "name",
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "notes",
    "source",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "owner",
    "sourced_by",
    "value",
    "created",
    "stage",
    "revenue",
    "cost",
    "lost_reason",
    "status",
    "won_at",
    "lost_at",
    "closed_at",
)
IGNORE = "-"


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    columns: dict[str, str]
    #: file stage name (lower case) → ladder key
    stage_map: dict[str, str] = field(default_factory=dict)
    #: file source name (lower case) → channel key or name
    source_map: dict[str, str] = field(default_factory=dict)
    #: any ``<stage_key>_at`` header maps to that stage's date (the plain preset)
    stage_dates: bool = False
    #: revenue of a won lead when the file has none (None: the row is an error)
    revenue_default: Decimal | None = None
    #: lost reason when the file has none ("" : the row is an error)
    lost_reason_default: str = ""
    #: the source when the file has none ("" : the row is an error)
    source_default: str = ""
    #: name when the file has none: this prefix + the first 8 characters of the external id
    name_from_id: str = ""
    #: the stage when the file has none ("" : the ladder's first open stage)
    stage_default: str = ""


PLAIN = Preset(
    name="plain",
    description="a plain spreadsheet: id, name, company, email, phone, notes, source, "
    "campaign, utm_source, utm_medium, utm_campaign, owner, sourced_by, value, created, stage, "
    "<stage>_at dates, revenue, cost, lost_reason",
    columns={
        "id": "external_id",
        **{f: f for f in FIELDS if f not in ("first_name", "last_name", "status")},
        "won_revenue": "revenue",
        "sourced by": "sourced_by",
        "created by": "sourced_by",
    },
    stage_dates=True,
)

OLIST = Preset(
    name="olist",
    description="Olist marketing funnel: the marketing-qualified leads file (deals: "
    "`keepscore import deals FILE --preset olist`)",
    columns={
        "mql_id": "external_id",
        "origin": "source",
        "first_contact_date": "created",
        "landing_page_id": "campaign",
    },
    source_default="unknown",
    name_from_id="Olist lead ",
    stage_default="lead",
)

HUBSPOT = Preset(
    name="hubspot",
    description="HubSpot contacts export",
    columns={
        "record id": "external_id",
        "contact id": "external_id",
        "first name": "first_name",
        "last name": "last_name",
        "email": "email",
        "phone number": "phone",
        "mobile phone number": "phone",
        "company name": "company",
        "company": "company",
        "lifecycle stage": "stage",
        "original source": "source",
        "original source drill-down 1": "campaign",
        "create date": "created",
        "contact owner": "owner",
        "hubspot owner": "owner",
        "became a lead date": "lead_at",
        "became a sales qualified lead date": "qualified_at",
        "became an opportunity date": "proposal_at",
        "became a customer date": "won_at",
    },
    stage_map={
        "subscriber": "suspect",
        "lead": "lead",
        "marketingqualifiedlead": "lead",
        "marketing qualified lead": "lead",
        "salesqualifiedlead": "qualified",
        "sales qualified lead": "qualified",
        "opportunity": "proposal",
        "customer": "customer",
        "evangelist": "customer",
        "other": "lead",
    },
    source_map={
        "organic search": "search",
        "organic_search": "search",
        "paid search": "ads",
        "paid_search": "ads",
        "paid social": "ads",
        "paid_social": "ads",
        "social media": "social",
        "social_media": "social",
        "email marketing": "email",
        "email_marketing": "email",
        "referrals": "referral",
    },
    revenue_default=Decimal(0),
    lost_reason_default="Not recorded",
    source_default="unknown",
)

PIPEDRIVE = Preset(
    name="pipedrive",
    description="Pipedrive persons/deals export",
    columns={
        "deal - id": "external_id",
        "person - id": "external_id",
        "id": "external_id",
        # the lead is the person (or the organization); the deal's title is kept as notes
        "name": "name",
        "person - name": "name",
        "contact person": "name",
        "deal - contact person": "name",
        "title": "notes",
        "deal - title": "notes",
        "email": "email",
        "person - email": "email",
        "person - email - work": "email",
        "person - email - home": "email",
        "person - email - other": "email",
        "phone": "phone",
        "person - phone": "phone",
        "person - phone - work": "phone",
        "person - phone - mobile": "phone",
        "person - phone - home": "phone",
        "person - phone - other": "phone",
        "organization": "company",
        "organization - name": "company",
        "deal - organization": "company",
        "person - organization": "company",
        "stage": "stage",
        "deal - stage": "stage",
        "deal created": "created",
        "deal - deal created": "created",
        "add time": "created",
        "value": "value",
        "deal - value": "value",
        "status": "status",
        "deal - status": "status",
        "won time": "won_at",
        "deal - won time": "won_at",
        "lost time": "lost_at",
        "deal - lost time": "lost_at",
        "lost reason": "lost_reason",
        "deal - lost reason": "lost_reason",
        "owner": "owner",
        "deal - owner": "owner",
        "person - owner": "owner",
        "source": "source",
        "deal - source": "source",
    },
    stage_map={
        "lead in": "lead",
        "contact made": "lead",
        "qualified": "qualified",
        "demo scheduled": "qualified",
        "needs defined": "qualified",
        "proposal made": "proposal",
        "negotiations started": "proposal",
    },
    revenue_default=Decimal(0),
    lost_reason_default="Not recorded",
    source_default="unknown",
    # a deal starts in "Lead In" (lead): won and lost deals start there too
    stage_default="lead",
)

SALESFORCE = Preset(
    name="salesforce",
    description="Salesforce leads report",
    columns={
        "lead id": "external_id",
        "first name": "first_name",
        "last name": "last_name",
        "company": "company",
        "company / account": "company",
        "email": "email",
        "phone": "phone",
        "mobile": "phone",
        "lead source": "source",
        "lead status": "stage",
        "created date": "created",
        "create date": "created",
        "converted date": "won_at",
        "lead owner": "owner",
        "description": "notes",
    },
    stage_map={
        "open - not contacted": "prospect",
        "new": "prospect",
        "working - contacted": "lead",
        "contacted": "lead",
        "nurturing": "lead",
        "working": "lead",
        "qualified": "qualified",
        "closed - converted": "customer",
        "converted": "customer",
        "closed - not converted": "lost",
        "unqualified": "lost",
    },
    source_map={
        "web": "website-form",
        "phone inquiry": "phone-enquiry",
        "partner referral": "referral",
        "employee referral": "referral",
        "external referral": "referral",
        "word of mouth": "referral",
        "advertisement": "ads",
        "email": "email",
    },
    revenue_default=Decimal(0),
    lost_reason_default="Not recorded",
    source_default="unknown",
    # a lead starts "Open - Not Contacted" (prospect): converted and closed ones too
    stage_default="prospect",
)

PRESETS: dict[str, Preset] = {p.name: p for p in (PLAIN, OLIST, HUBSPOT, PIPEDRIVE, SALESFORCE)}


def preset_get(name: str) -> Preset:
    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}") from None
