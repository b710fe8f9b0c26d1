"""The lead lists behind the channel economics' counts of leads, per channel and in total."""

from __future__ import annotations

from collections.abc import Callable

from keepscore.accounts.models import Organization
from keepscore.economics.channels import ChannelEconomics, ChannelRow
from keepscore.leads.links import counted, dated, leads_url
from keepscore.leads.models import Channel, Stage


def channel_links(
    organization: Organization, result: ChannelEconomics
) -> Callable[[ChannelRow], dict[str, str]]:
    """The lead lists of a row's counts (``leads``, ``qualified``, ``customers``; none for a
    count of 0), of its channel or, for the total, of every channel: the same leads the
    counts count (``LeadFilters``: first touch, first reach of the qualified stage, first
    win, each dated in the period)."""
    period = result.period
    channels = dict(Channel.objects.for_org(organization).values_list("key", "pk"))
    qualified = Stage.objects.for_org(organization).filter(key=result.qualified_stage).first()

    def links(row: ChannelRow) -> dict[str, str]:
        only = {} if row is result.total else {"channel": channels[row.key]}
        out = {
            "leads": {**only, **dated("created", period)},
            "customers": {**only, **dated("won", period)},
        }
        if qualified is not None:
            out["qualified"] = {**only, "reached": qualified.pk, **dated("reached", period)}
        urls = {figure: leads_url(organization, **params) for figure, params in out.items()}
        return counted(urls, lambda figure: getattr(row, figure))

    return links
