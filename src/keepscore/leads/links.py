"""A lead on the web: the lead a page names (404 outside the organization), its page's
address, and the lead list filtered to the leads a count names (``LeadFilters`` by their
form's names); shared by the lead, follow-up, privacy and report pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.shortcuts import get_object_or_404
from django.urls import reverse

from keepscore.accounts.models import Organization
from keepscore.common.periods import Period
from keepscore.leads.models import Lead


def lead_get(organization: Organization, pk: int) -> Lead:
    """The organization's lead ``pk``, with what its page shows; 404 if it has none."""
    return get_object_or_404(
        Lead.objects.for_org(organization).select_related(
            "organization", "stage", "channel", "owner__user", "sourced_by__user"
        ),
        pk=pk,
    )


def lead_url(lead: Lead, anchor: str = "") -> str:
    """The lead's page (at ``anchor``, if given)."""
    url = reverse("lead_detail", kwargs={"org": lead.organization.slug, "pk": lead.pk})
    return f"{url}#{anchor}" if anchor else url


def leads_url(organization: Organization, **filters: object) -> str:
    """The organization's lead list with these filters (``LeadFilterForm``'s fields)."""
    base = reverse("lead_list", kwargs={"org": organization.slug})
    return f"{base}?{urlencode(filters)}" if filters else base


def counted(links: dict[str, str], count: Callable[[str], Any]) -> dict[str, str]:
    """The links of the counts that are not 0 (``count(name)``: the figure a link names): a
    count of no leads opens no list."""
    return {name: url for name, url in links.items() if url and count(name)}


def dated(name: str, period: Period) -> dict[str, str]:
    """A dated filter of the lead list over the period's days: ``{name}_from``, ``{name}_to``
    (``dated("created", p)``: first touched in it)."""
    return {f"{name}_from": period.start.isoformat(), f"{name}_to": period.end.isoformat()}
