"""Erasing people changes no figure: the scorecard of several months, the funnel (by every
grouping that is no personal data, through the summaries and the reference computation),
close rate, sales cycle, money, lost reasons, time in stage, activity counts, objections,
the jobs report, channel economics and the focus are the same before and after erasing
people with won and lost deals, activities, objections, corrections and overrides.

On the demo organization (14 months of realistic history) with Ada (``conftest.py``) in it.
Each figure is computed twice before the erasure (the comparison is of stable things) and
shown to move when the history really changes (it would see a difference).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import Activity, Objection
from keepscore.common.days import day_start
from keepscore.common.months import month_add
from keepscore.common.periods import Period
from keepscore.demo.generator import demo_create, demo_email
from keepscore.economics.channels import channel_economics, channel_economics_reference
from keepscore.focus.selectors import diagnose
from keepscore.funnel import selectors as funnel
from keepscore.funnel.jobs import jobs_report
from keepscore.funnel.objections import objections_report
from keepscore.history import recorder
from keepscore.leads.models import DealOutcome, Lead, LostReason
from keepscore.leads.services import Outcome, lead_move
from keepscore.privacy.services import person_erase
from keepscore.scorecard.compute import scorecard_for
from tests.conftest import stage
from tests.privacy.conftest import ada_make

pytestmark = pytest.mark.django_db

#: the funnel's groupings that are no personal data (``fact:`` groups read the facts an
#: erasure blanks: an erased lead moves to "(none)" there, see the report)
GROUPINGS = (None, "channel", "owner", "campaign", "utm_source", "utm_medium", "utm_campaign")


def figures(organization: Organization, today: date) -> dict[str, Any]:
    """Every figure keepscore shows, as comparable text."""
    months = [month_add(today.replace(day=1), -i) for i in range(6)]
    year = Period(month_add(today.replace(day=1), -11), today)
    quarter = Period(months[2], today)
    out: dict[str, Any] = {}
    for month in months:
        card = scorecard_for(organization, month, today=today)
        out[f"scorecard {month:%Y-%m}"] = repr(card.rows)
    for by in GROUPINGS:
        for period in (year, quarter):
            out[f"funnel {by} {period}"] = repr(
                funnel.funnel(organization=organization, period=period, by=by)
            )
            reference = funnel.funnel_reference(
                organization=organization, period=period, by=by, within_days=None
            )
            out[f"funnel reference {by} {period}"] = repr(reference)
    for name, period in (("year", year), ("quarter", quarter)):
        out[f"close rate {name}"] = repr(
            funnel.close_rate(organization=organization, period=period)
        )
        out[f"sales cycle {name}"] = repr(
            funnel.sales_cycle(organization=organization, period=period)
        )
        out[f"money {name}"] = repr(funnel.money(organization=organization, period=period))
        out[f"lost reasons {name}"] = repr(
            funnel.lost_reasons(organization=organization, period=period)
        )
        out[f"stage times {name}"] = repr(
            funnel.stage_times(organization=organization, period=period)
        )
        out[f"activity {name}"] = repr(
            funnel.activity_counts(
                organization=organization, period=period, grain="week", by_member=True
            )
        )
        out[f"new leads {name}"] = funnel.new_leads(organization=organization, period=period)
        out[f"entries {name}"] = repr(
            funnel.stage_entries(organization=organization, period=period)
        )
        out[f"objections {name}"] = repr(objections_report(organization, period))
        out[f"jobs {name}"] = repr(jobs_report(organization, period))
        out[f"economics {name}"] = repr(channel_economics(organization, period))
        reference = channel_economics_reference(organization, period)
        out[f"economics reference {name}"] = repr(reference)
    out["focus"] = repr(diagnose(organization, today).indicators)
    return out


def people_to_erase(organization: Organization, since: date) -> list[str]:
    """Emails of demo people with history in the figures' months: two who won, two who
    lost, and one still open with activities and objections."""
    leads = (
        Lead.objects.for_org(organization)
        .exclude(email="")
        .annotate(
            won=Count("outcomes", filter=Q(outcomes__result="won", outcomes__at__date__gte=since)),
            lost=Count(
                "outcomes", filter=Q(outcomes__result="lost", outcomes__at__date__gte=since)
            ),
            acts=Count("activities", distinct=True),
            objs=Count("objections", distinct=True),
        )
        .order_by("id")
    )
    won = [lead.email for lead in leads if lead.won and lead.acts][:2]
    lost = [lead.email for lead in leads if lead.lost and lead.objs][:2]
    open_ = [lead.email for lead in leads if lead.stage.kind == "open" and lead.acts and lead.objs]
    emails = list(dict.fromkeys([*won, *lost, *open_[:1]]))
    assert len(emails) == 5, emails
    return emails


def test_erasing_people_changes_no_figure() -> None:
    # given: 14 months of history, and Ada with overrides, corrections and a form
    today = timezone.localdate()
    demo_create(slug="demo", months=14, today=today)
    organization = Organization.objects.get(slug="demo")
    owner = Membership.objects.get(organization=organization, user__email=demo_email("demo"))
    ada = ada_make(organization, owner)
    emails = [*people_to_erase(organization, month_add(today.replace(day=1), -11)), ada.email]
    before = figures(organization, today)
    assert figures(organization, today) == before  # stable: a difference would be real
    people = Q(*[Q(email__iexact=e) for e in emails], _connector=Q.OR)
    ids = list(Lead.objects.for_org(organization).filter(people).values_list("pk", flat=True))
    won = DealOutcome.objects.filter(lead_id__in=ids, result="won")
    assert won.count() >= 3 and sum(o.revenue for o in won) > Decimal(0)
    assert DealOutcome.objects.filter(lead_id__in=ids, result="lost").count() >= 3
    assert Activity.objects.filter(lead_id__in=ids).count() >= 10
    assert Objection.objects.filter(lead_id__in=ids).count() >= 3
    # when
    done = [person_erase(organization=organization, email=e, by=owner) for e in emails]
    # then
    assert sum(len(e.lead_ids) for e in done) == len(ids)
    assert Lead.objects.filter(pk__in=ids, erased_at__isnull=True).count() == 0
    assert sum(e.total.activities for e in done) >= 10
    after = figures(organization, today)
    assert [k for k in before if after[k] != before[k]] == []
    assert recorder.verify(organization=organization) == []
    # and the comparison sees a real change of the history
    lead = Lead.objects.for_org(organization).filter(stage__kind="open").exclude(pk__in=ids)[0]
    reason = LostReason.objects.for_org(organization).first()
    lead_move(
        lead=lead,
        to_stage=stage(organization, "lost"),
        by=owner,
        # inside ``today`` even when the test runs past midnight
        at=min(timezone.now(), day_start(today + timedelta(days=1)) - timedelta(seconds=1)),
        outcome=Outcome(lost_reason=reason),
    )
    changed = figures(organization, today)
    assert changed["close rate quarter"] != after["close rate quarter"]
    assert changed[f"scorecard {today:%Y-%m}"] != after[f"scorecard {today:%Y-%m}"]
