"""The monthly review meeting: ``GET /review-meeting`` (every member reads it) and
``PUT /review-meeting`` (owners set it). A bad value is a 422 naming its field."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from keepscore.api.auth import organization_of
from keepscore.api.schemas import ERRORS, ErrorOut, Text
from keepscore.scorecard.review_meeting import meeting_json, meeting_set

router = Router(tags=["review"])


class ReviewMeetingOut(Schema):
    set: bool = Field(description="False: no meeting is set (the other fields are absent).")
    which: str | None = Field(None, description="first, second, third, fourth or last.")
    weekday: str | None = Field(None, description="Monday … Sunday.")
    at: str | None = Field(None, description="The time of day, HH:MM, in the app's time zone.")
    days_before: int | None = Field(None, description="How many days before the mail goes.")
    active: bool | None = Field(None, description="False: no mail is sent.")
    attendees: list[str] | None = Field(None, description="The attendees' email addresses.")
    next_meeting: str | None = Field(None, description="The next meeting, ISO 8601.")
    next_send: str | None = Field(None, description="When its mail goes, ISO 8601.")
    next_reviews: str | None = Field(None, description="The month it reviews, YYYY-MM.")
    description: str | None = Field(None, description="The next meeting in words.")


class ReviewMeetingIn(Schema):
    which: Text | int = Field(description="first, second, third, fourth or last (or 1…5).")
    weekday: Text | int = Field(description="Monday … Sunday (or 0 for Monday … 6).")
    at: Text = Field("09:00", description="HH:MM, the app's time zone.")
    days_before: int = Field(2, description="0 to 28 days before the meeting.")
    active: bool = True
    attendees: list[Text] = Field(
        default_factory=list, description="Members' email addresses (of this organization)."
    )


@router.get(
    "/review-meeting",
    response={200: ReviewMeetingOut, **ERRORS},
    summary="The monthly review meeting",
)
def review_meeting_read(request: HttpRequest) -> Any:
    return meeting_json(organization_of(request))


@router.put(
    "/review-meeting",
    response={200: ReviewMeetingOut, **ERRORS, 403: ErrorOut},
    summary="Set the monthly review meeting",
)
def review_meeting_write(request: HttpRequest, payload: ReviewMeetingIn) -> Any:
    """Sets the whole meeting (what is left out takes its default). Attendees are members of
    this organization, by email; anyone else is a 422 naming ``attendees``."""
    organization = organization_of(request)
    meeting_set(organization, **payload.model_dump())
    return meeting_json(organization)
