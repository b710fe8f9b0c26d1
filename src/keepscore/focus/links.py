"""The lead lists behind the focus's counts of leads: the stalled and open leads, and where
the customers come from (each channel's leads, and its customers: first won in the months
the indicator reads). The counts of today's diagnosis only: the list shows the leads as they
are now. A count of 0 opens no list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.focus.indicators import Indicator
from keepscore.leads.late import STALL_DAYS
from keepscore.leads.links import counted, leads_url
from keepscore.leads.models import Channel


@dataclass(frozen=True)
class IndicatorLinks:
    #: by evidence key: the list of the leads that count names
    facts: dict[str, str] = field(default_factory=dict)
    #: by channel name (the ``by_customers`` rows): ``leads`` and ``customers``
    channels: dict[str, dict[str, str]] = field(default_factory=dict)


def indicator_links(
    organization: Organization, as_of: date
) -> Callable[[Indicator], IndicatorLinks]:
    """An indicator's lead lists (none for a past date)."""
    channel_pks = dict(Channel.objects.for_org(organization).values_list("name", "pk"))
    today = as_of == timezone.localdate()
    stalled = leads_url(organization, status="open", late="on", min_days=STALL_DAYS)
    open_leads = leads_url(organization, status="open")

    def links(indicator: Indicator) -> IndicatorLinks:
        evidence = indicator.evidence
        won = evidence.get("customers_won")
        first_won = {"won_from": won["from"], "won_to": won["to"]} if today and won else {}
        channels = {}
        for row in evidence.get("by_customers", []):
            pk = channel_pks.get(row.get("channel"))
            if pk is None:
                continue
            found = {"leads": leads_url(organization, channel=pk)}  # the channel's leads
            if first_won and row.get("customers"):
                found["customers"] = leads_url(organization, channel=pk, **first_won)
            channels[row["channel"]] = found
        if not today:
            return IndicatorLinks(channels=channels)
        facts = {
            "stalled": stalled,
            "high_value_stalled": stalled,
            "open_leads": open_leads,
            "customers": leads_url(organization, **first_won) if first_won else "",
        }
        return IndicatorLinks(facts=counted(facts, evidence.get), channels=channels)

    return links
