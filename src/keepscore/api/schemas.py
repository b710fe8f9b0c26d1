"""What the API takes and gives: explicit schemas, never the ORM objects themselves.

Money is a string with two decimals ("1200.50"); times are ISO 8601 with their offset.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from keepscore.activities.models import Activity, ActivityKind, Objection, ObjectionTag
from keepscore.common.days import DATE_RANGE_MESSAGE, EARLIEST_DATE, LATEST_DATE
from keepscore.economics.models import DealLine
from keepscore.economics.products import MAX_LINES, cents
from keepscore.leads.models import Channel, Lead, Stage, StageChange

#: the largest id a database column holds; larger ones are refused, not looked up
MAX_ID = 2**63 - 1
#: the most rows one page of a list returns
MAX_LIMIT = 500
MAX_OFFSET = 10**9


def _clean_text(value: str) -> str:
    """Text the database can store: no NUL character, no lone surrogate."""
    if "\x00" in value:
        raise ValueError("Text cannot contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("Text must be valid Unicode.") from error
    return value


def _day(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(DATE_RANGE_MESSAGE)
    return value


def _aware(value: datetime) -> datetime:
    """A time with its offset (a naive one is in the server's time zone), storable in UTC."""
    _day(value.date())
    if timezone.is_naive(value):
        try:
            value = timezone.make_aware(value)
        except (OverflowError, ValueError) as error:
            raise ValueError("This date is out of range.") from error
    try:
        value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("This date is out of range.") from error
    return value


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _iso_day(value: Any) -> Any:
    """A date as YYYY-MM-DD text (or a date): never a number read as seconds since 1970, as
    pydantic would (``?to=0`` was 1970-01-01), nor a time."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise PydanticCustomError(
                "date_invalid", "{value} is not a date.", {"value": value.strip()}
            ) from None
    raise PydanticCustomError("date_format", "Enter a date as YYYY-MM-DD.")


def _iso_time(value: Any) -> Any:
    """A time as ISO 8601 text (or a datetime), never a number of seconds since 1970."""
    if isinstance(value, datetime) or (isinstance(value, str) and not _NUMBER.fullmatch(value)):
        return value
    raise PydanticCustomError(
        "datetime_format", "Enter a time as ISO 8601, e.g. 2024-05-01T09:30:00+02:00."
    )


def _local_time(value: time) -> time:
    """A time of day as the organization's clock shows it: no offset (the database keeps
    none; SQLite refused one with a server error)."""
    if value.tzinfo is not None:
        raise PydanticCustomError("time_offset", "Give the time of day without an offset: 09:30.")
    return value


Text = Annotated[str, AfterValidator(_clean_text)]
Clock = Annotated[time, AfterValidator(_local_time)]
When = Annotated[datetime, BeforeValidator(_iso_time), AfterValidator(_aware)]
Day = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_day)]
#: a stage's or channel's key, as a query parameter (a slug)
Key = Annotated[str, StringConstraints(pattern=r"^[-a-zA-Z0-9_]+$", max_length=60)]
#: a member's email, as a query parameter
EmailQuery = Annotated[Text, StringConstraints(max_length=254)]
#: a month, as a query parameter: YYYY-MM (a YYYY-MM-DD date is read as its month)
MonthQuery = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}(-\d{2})?$", max_length=10)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Money = Annotated[Decimal, Field(allow_inf_nan=False)]


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def email_of(member: Any) -> str | None:
    return member.user.email if member is not None else None


# --- errors -----------------------------------------------------------------------------


class ErrorItem(Schema):
    field: str = Field(description="The offending field; empty when the error is general.")
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] = []


#: 429: too many failed tokens from the caller's address (keepscore.accounts.lockout)
ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


# --- stages and channels -------------------------------------------------------------------


class StageOut(Schema):
    id: int
    key: str
    name: str
    position: int
    group: str
    kind: str
    requires_qualification: bool

    @staticmethod
    def of(stage: Stage) -> StageOut:
        return StageOut(
            id=stage.pk,
            key=stage.key,
            name=stage.name,
            position=stage.position,
            group=stage.group,
            kind=stage.kind,
            requires_qualification=stage.requires_qualification,
        )


class ChannelOut(Schema):
    id: int
    key: str
    name: str
    active: bool

    @staticmethod
    def of(channel: Channel) -> ChannelOut:
        return ChannelOut(id=channel.pk, key=channel.key, name=channel.name, active=channel.active)


class ChannelIn(Schema):
    name: Text
    active: bool = True


# --- leads ------------------------------------------------------------------------------


class LeadOut(Schema):
    id: int
    name: str
    company: str
    email: str
    phone: str
    notes: str
    owner: str | None = Field(description="The email of the member working the lead.")
    sourced_by: str | None = Field(
        description="The email of the member who brought the lead in (marketing's credit)."
    )
    stage: str = Field(description="The key of the lead's current stage.")
    value: str | None = Field(description="Expected deal value, e.g. '1200.50'.")
    first_touch_at: datetime
    stage_entered_at: datetime
    channel: str = Field(description="The key of the original channel (first touch).")
    campaign: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    referrer: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(lead: Lead) -> LeadOut:
        return LeadOut(
            id=lead.pk,
            name=lead.name,
            company=lead.company,
            email=lead.email,
            phone=lead.phone,
            notes=lead.notes,
            owner=email_of(lead.owner),
            sourced_by=email_of(lead.sourced_by),
            stage=lead.stage.key,
            value=money(lead.value),
            first_touch_at=lead.first_touch_at,
            stage_entered_at=lead.stage_entered_at,
            channel=lead.channel.key,
            campaign=lead.campaign,
            utm_source=lead.utm_source,
            utm_medium=lead.utm_medium,
            utm_campaign=lead.utm_campaign,
            referrer=lead.referrer,
            created_at=lead.created_at,
            updated_at=lead.updated_at,
        )


class LeadPage(Schema):
    items: list[LeadOut]
    count: int


class LeadIn(Schema):
    name: Text
    channel: Text = Field(description="The key of the channel the lead came through.")
    stage: Text | None = Field(None, description="A stage key; the first open stage if left out.")
    first_touch_at: When | None = None
    company: Text = ""
    email: Text = ""
    phone: Text = ""
    notes: Text = ""
    owner: Text | None = Field(
        None,
        description="A member's email: the lead is assigned to them (they get a first-contact "
        "call to make and, unless it is the token's member, an email).",
    )
    assign: Literal["round_robin"] | None = Field(
        None,
        description="`round_robin`: assign the lead to the next sales member in turn (instead "
        "of an owner; unassigned when there is no sales member).",
    )
    first_contact_hours: int | None = Field(
        None, ge=1, le=720, description="The first contact is due within these hours (24)."
    )
    sourced_by: Text | None = Field(
        None, description="A member's email; the token's member when left out."
    )
    value: Money | None = None
    campaign: Text = ""
    utm_source: Text = ""
    utm_medium: Text = ""
    utm_campaign: Text = ""
    referrer: Text = ""


class LeadPatch(BaseModel):
    """Only what may change. Source fields (channel, campaign, UTM, …) and the stage are
    refused with a field error: the stage changes by a move."""

    model_config = ConfigDict(extra="allow")

    name: Text | None = None
    company: Text | None = None
    email: Text | None = None
    phone: Text | None = None
    notes: Text | None = None
    owner: Text | None = Field(None, description="A member's email; null for nobody.")
    sourced_by: Text | None = Field(None, description="A member's email; null for nobody.")
    value: Money | None = None


class LeadFiltersIn(Schema):
    """The lead list's filters, as on the web page: each ``*_from``/``*_to`` pair is a range
    of local days, both included, either end open."""

    stage: Key | None = Field(None, description="A stage key: the leads at it now.")
    status: Literal["open", "won", "lost"] | None = Field(
        None, description="The kind of the lead's stage now."
    )
    channel: Key | None = Field(None, description="A channel key (the lead's source).")
    owner: EmailQuery | None = Field(None, description="A member's email: who works the lead.")
    sourced_by: EmailQuery | None = Field(
        None, description="A member's email: who brought the lead in."
    )
    created_from: Day | None = Field(None, description="First touched on or after.")
    created_to: Day | None = Field(None, description="First touched on or before.")
    entered: Key | None = Field(None, description="A stage key: moved into it in the dates.")
    entered_from: Day | None = None
    entered_to: Day | None = None
    reached: Key | None = Field(
        None,
        description="A stage key: first reached it (or a later stage that is not lost) in "
        "the dates, as the funnel counts.",
    )
    reached_from: Day | None = None
    reached_to: Day | None = None
    won_from: Day | None = Field(None, description="First won on or after (channel economics).")
    won_to: Day | None = None
    closed_won_from: Day | None = Field(
        None, description="The last outcome in the dates is a win (the scorecard's customers)."
    )
    closed_won_to: Day | None = None
    closed_lost_from: Day | None = Field(
        None, description="The last outcome in the dates is a loss (the scorecard's lost)."
    )
    closed_lost_to: Day | None = None
    campaign: Text = Field("", description="The original source's campaign.", max_length=200)
    utm_source: Text = Field("", max_length=200)
    utm_medium: Text = Field("", max_length=200)
    utm_campaign: Text = Field("", max_length=200)
    q: Text = Field("", description="Searched in name, company, email and phone.", max_length=200)


# --- stage changes ------------------------------------------------------------------------


class DealLineIn(Schema):
    product: Id = Field(description="The product's id (see /products).")
    quantity: Money = Field(description="How many, more than 0, e.g. 2 or 1.5.")
    unit_price: Money | None = Field(
        None, description="The price of one; the product's price if left out."
    )


class DealLineOut(Schema):
    product: int
    product_name: str
    quantity: str
    unit_price: str
    unit_cost: str
    revenue: str = Field(description="quantity x unit price.")
    cost: str = Field(description="quantity x unit cost.")

    @staticmethod
    def of(line: DealLine) -> DealLineOut:
        return DealLineOut(
            product=line.product_id,
            product_name=line.product.name,
            quantity=f"{line.quantity:.2f}",
            unit_price=f"{line.unit_price:.2f}",
            unit_cost=f"{line.unit_cost:.2f}",
            revenue=f"{cents(line.revenue):.2f}",
            cost=f"{cents(line.cost):.2f}",
        )


def lines_of(outcome: Any) -> list[DealLineOut]:
    """A deal outcome's lines (none for a lost deal or one entered without products)."""
    return [DealLineOut.of(line) for line in outcome.lines.all()]


class OutcomeOut(Schema):
    result: str
    revenue: str | None
    cost: str | None
    margin: str | None
    lost_reason: str | None
    lost_note: str
    lines: list[DealLineOut] = Field([], description="Won deals: the products sold, if any.")


class StageChangeOut(Schema):
    id: int
    lead: int
    from_stage: str | None
    to_stage: str
    at: datetime
    by: str | None = Field(description="The email of who made the move.")
    note: str
    qualification_override: bool
    override_reason: str
    outcome: OutcomeOut | None

    @staticmethod
    def of(change: StageChange) -> StageChangeOut:
        deal = getattr(change, "outcome", None)
        outcome = None
        if deal is not None:
            outcome = OutcomeOut(
                result=deal.result,
                revenue=money(deal.revenue),
                cost=money(deal.cost),
                margin=money(deal.margin),
                lost_reason=deal.lost_reason.name if deal.lost_reason else None,
                lost_note=deal.lost_note,
                lines=lines_of(deal),
            )
        return StageChangeOut(
            id=change.pk,
            lead=change.lead_id,
            from_stage=change.from_stage.key if change.from_stage else None,
            to_stage=change.to_stage.key,
            at=change.at,
            by=change.by.email if change.by else None,
            note=change.note,
            qualification_override=change.qualification_override,
            override_reason=change.override_reason,
            outcome=outcome,
        )


class MoveIn(Schema):
    to_stage: Text = Field(description="The key of the stage to move to.")
    at: When | None = None
    note: Text = ""
    override_reason: Text = Field("", description="An owner's reason to skip the checklist.")
    revenue: Money | None = Field(None, description="Needed to move to a won stage.")
    cost: Money | None = None
    lines: list[DealLineIn] = Field(
        [],
        max_length=MAX_LINES,
        description="A won deal's products sold, instead of revenue and cost: revenue is the "
        "sum of quantity x unit price, cost of quantity x unit cost.",
    )
    lost_reason: Id | Text | None = Field(
        None, description="The lost reason's id or name; needed to move to a lost stage."
    )
    lost_note: Text = ""


# --- activities and objections --------------------------------------------------------------


class ActivityOut(Schema):
    id: int
    lead: int
    kind: str
    at: datetime
    by: str | None
    with_buyer: bool
    is_sales_conversation: bool
    outcome: str
    notes: str

    @staticmethod
    def of(activity: Activity) -> ActivityOut:
        return ActivityOut(
            id=activity.pk,
            lead=activity.lead_id,
            kind=activity.kind,
            at=activity.at,
            by=email_of(activity.by),
            with_buyer=activity.with_buyer,
            is_sales_conversation=activity.is_sales_conversation,
            outcome=activity.outcome,
            notes=activity.notes,
        )


class ActivityPage(Schema):
    items: list[ActivityOut]
    count: int


class ActivityIn(Schema):
    kind: ActivityKind
    at: When | None = None
    with_buyer: bool = False
    outcome: Text = ""
    notes: Text = ""


class ObjectionOut(Schema):
    id: int
    lead: int
    activity: int | None
    tag: str
    text: str
    at: datetime
    by: str | None

    @staticmethod
    def of(objection: Objection) -> ObjectionOut:
        return ObjectionOut(
            id=objection.pk,
            lead=objection.lead_id,
            activity=objection.activity_id,
            tag=objection.tag,
            text=objection.text,
            at=objection.at,
            by=email_of(objection.by),
        )


class ObjectionIn(Schema):
    tag: ObjectionTag
    text: Text = ""
    activity: Id | None = Field(None, description="The id of the lead's activity it came up in.")
    at: When | None = None
