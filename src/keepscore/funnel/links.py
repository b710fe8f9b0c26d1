"""The lead lists behind the funnel pages' counts of leads: a funnel group's reached and
entered counts per stage, and the marketing columns of marketing & sales (leads sourced,
leads qualified). Each link filters the lead list (``LeadFilters``) to exactly the leads the
count counts; a grouping the lead list cannot filter gets none."""

from __future__ import annotations

from collections.abc import Callable

from keepscore.accounts.models import Organization
from keepscore.common.periods import Period
from keepscore.funnel.funnel_report import FunnelGroup
from keepscore.funnel.jobs import JobCounts
from keepscore.funnel.ladder import Ladder
from keepscore.leads.links import counted, dated, leads_url
from keepscore.leads.models import Channel, Stage
from keepscore.leads.selectors import SOURCE_TEXT


def stage_links(
    organization: Organization, period: Period, by: str | None, ladder: Ladder
) -> Callable[[FunnelGroup], dict[str, dict[str, str]]]:
    """A group's lead lists, by stage key: ``reached`` (first reached in the period) and
    ``entered`` (moved into it in the period), the leads the group's counts count (none for
    a count of 0). Only for the groups the lead list can filter (all leads, a channel, an
    owner, a campaign or UTM field's text); none for others (no owner, a blank field, a
    fact)."""
    channels = dict(Channel.objects.for_org(organization).values_list("key", "pk"))
    ids = {s.key: s.pk for s in ladder.stages}

    def links(group: FunnelGroup) -> dict[str, dict[str, str]]:
        if by is None:
            only: dict[str, object] = {}
        elif by == "channel" and group.key in channels:
            only = {"channel": channels[group.key]}
        elif by == "owner" and group.key.isdigit():
            only = {"owner": group.key}
        elif by in SOURCE_TEXT and group.key:  # a campaign or UTM field: its text
            only = {by: group.key}
        else:
            return {}

        def urls(stage: int) -> dict[str, str]:
            return {
                name: leads_url(organization, **only, **{name: stage}, **dated(name, period))
                for name in ("reached", "entered")
            }

        return {
            s.key: counted(urls(ids[s.key]), {"reached": s.reached, "entered": s.entered}.get)
            for s in group.stages
            if s.key in ids
        }

    return links


def job_links(
    organization: Organization, qualified: Stage | None
) -> Callable[[int | None, Period, JobCounts], dict[str, str]]:
    """The lead lists of marketing & sales' marketing columns for a member (None: everyone)
    over some days, by column (none for a count of 0 in ``counts``): ``leads_sourced`` (the
    member sourced them and they were first touched in the days) and ``leads_qualified``
    (the member sourced them and they first reached the qualified stage in the days; none
    without a qualified stage). Work credited to no member has no list: the lead list has no
    "sourced by no one" filter."""

    def links(member: int | None, days: Period, counts: JobCounts) -> dict[str, str]:
        only = {} if member is None else {"sourced_by": member}
        out = {"leads_sourced": leads_url(organization, **only, **dated("created", days))}
        if qualified is not None:
            out["leads_qualified"] = leads_url(
                organization, **only, reached=qualified.pk, **dated("reached", days)
            )
        return counted(out, lambda name: getattr(counts, name))

    return links
