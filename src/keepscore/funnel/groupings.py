"""The funnel's groupings of leads (channel, campaign, owner, UTM fields, facts): each lead's
group key and label, and segments (the leads of one group)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from keepscore.accounts.models import Membership, Organization
from keepscore.leads.models import Channel, Lead

#: the lead fields a funnel can be grouped by (and a segment chosen by), besides "fact:<name>"
GROUPINGS = ("channel", "campaign", "owner", "utm_source", "utm_medium", "utm_campaign")
FACT_PREFIX = "fact:"
#: the key and label of a blank value (no campaign, no owner, fact missing)
NONE_KEY, NONE_LABEL = "", "(none)"
#: the one group of an ungrouped funnel
ALL_KEY, ALL_LABEL = "all", "All leads"


@dataclass(frozen=True)
class Segment:
    """Only the leads whose ``by`` (a funnel grouping) equals ``value``.

    ``value`` is a group key as a funnel reports it: a channel's key (or the Channel), a
    member's id (or the Membership), the text of a campaign / UTM field or of a fact; ``""``
    (or None) picks the leads where it is blank.
    """

    by: str
    value: Any

    def __post_init__(self) -> None:
        grouping_check(self.by)
        if self.by is None:
            raise ValueError("a segment needs a grouping, e.g. Segment('channel', 'referral')")

    @property
    def key(self) -> str:
        value = self.value
        if value is None:
            return NONE_KEY
        if isinstance(value, Channel):
            return value.key
        if isinstance(value, Membership):
            return str(value.pk)
        return _text_key(value)


def grouping_check(by: str | None) -> None:
    """Refuse a grouping the funnel does not know, saying which ones it does."""
    if by is None or by in GROUPINGS:
        return
    if isinstance(by, str) and by.startswith(FACT_PREFIX) and by[len(FACT_PREFIX) :].strip():
        return
    raise ValueError(
        f"cannot group or segment leads by {by!r}: use one of "
        + ", ".join(GROUPINGS)
        + ", or 'fact:<name>' (a key of the lead's facts)"
    )


def _text_key(value: Any) -> str:
    if value is None:
        return NONE_KEY
    if isinstance(value, str):
        return value.strip()
    return json.dumps(value, sort_keys=True)


def member_label(first: str | None, last: str | None, email: str | None) -> str:
    full = f"{first or ''} {last or ''}".strip()
    return full or email or NONE_LABEL


def lead_groups(organization: Organization, by: str | None) -> dict[int, tuple[str, str]]:
    """Every lead of the organization → (group key, label) for a grouping."""
    grouping_check(by)
    leads = Lead.objects.for_org(organization)
    out: dict[int, tuple[str, str]] = {}
    if by is None:
        for pk in leads.values_list("pk", flat=True).iterator(chunk_size=5000):
            out[pk] = (ALL_KEY, ALL_LABEL)
    elif by == "channel":
        for pk, key, name in leads.values_list("pk", "channel__key", "channel__name").iterator(
            chunk_size=5000
        ):
            out[pk] = (key, name)
    elif by == "owner":
        rows = leads.values_list(
            "pk",
            "owner_id",
            "owner__user__first_name",
            "owner__user__last_name",
            "owner__user__email",
        )
        for pk, owner, first, last, email in rows.iterator(chunk_size=5000):
            if owner is None:
                out[pk] = (NONE_KEY, NONE_LABEL)
            else:
                out[pk] = (str(owner), member_label(first, last, email))
    elif by.startswith(FACT_PREFIX):
        name = by[len(FACT_PREFIX) :].strip()
        for pk, facts in leads.values_list("pk", "facts").iterator(chunk_size=5000):
            key = _text_key(facts.get(name) if isinstance(facts, dict) else None)
            out[pk] = (key, key or NONE_LABEL)
    else:  # a text field of the original source
        for pk, value in leads.values_list("pk", by).iterator(chunk_size=5000):
            key = _text_key(value)
            out[pk] = (key, key or NONE_LABEL)
    return out


def segment_leads(organization: Organization, segment: Segment | None) -> set[int] | None:
    """The ids of the segment's leads; None (every lead) without a segment."""
    if segment is None:
        return None
    wanted = segment.key
    return {
        pk for pk, (key, _label) in lead_groups(organization, segment.by).items() if key == wanted
    }
